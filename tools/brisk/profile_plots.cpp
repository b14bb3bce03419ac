#include "brisk/profile_plots.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace brisk::tools {

namespace {

namespace fs = std::filesystem;

// Up to this many points per CDF curve: enough for a smooth line, small files.
constexpr std::size_t kCdfPoints = 2000;

// "fraction value_us" rows: exact from trace samples, else the histogram's
// percentiles (coarse, but the shape of the tail is still there).
void write_cdf(const fs::path& file, const std::vector<std::uint64_t>* sorted, const LatencySummary& l) {
  std::ofstream out(file);
  if (sorted != nullptr && !sorted->empty()) {
    const std::size_t n = sorted->size();
    const std::size_t step = n > kCdfPoints ? n / kCdfPoints : 1;
    for (std::size_t i = 0; i < n; i += step) {
      out << static_cast<double>(i + 1) / static_cast<double>(n) << ' ' << static_cast<double>((*sorted)[i]) / 1e3 << '\n';
    }
    out << "1 " << static_cast<double>(sorted->back()) / 1e3 << '\n';
    return;
  }
  const std::pair<double, std::uint64_t> points[] = {
      {0.5, l.p50_ns}, {0.9, l.p90_ns}, {0.99, l.p99_ns}, {0.999, l.p999_ns}, {1.0, l.max_ns}};
  for (const auto& [q, v] : points) out << q << ' ' << static_cast<double>(v) / 1e3 << '\n';
}

// "t_s jobs_per_s depth" rows: from stats() samples of a workload run, else
// from the trace's completions and submitted-not-started jobs.
void write_timeline(const fs::path& file, const Profile& p) {
  std::ofstream out(file);
  if (p.run && !p.run->samples.empty()) {
    double last_t = 0;
    std::uint64_t last_executed = 0;
    for (const StatsSample& s : p.run->samples) {
      const double dt = s.t_s - last_t;
      out << s.t_s << ' ' << (dt > 0 ? static_cast<double>(s.executed - last_executed) / dt : 0) << ' ' << s.queued << '\n';
      last_t = s.t_s;
      last_executed = s.executed;
    }
    return;
  }
  if (p.trace) {
    for (const TracePoint& x : p.trace->series) out << x.t_s << ' ' << x.completions_per_s << ' ' << x.depth << '\n';
  }
}

void write_script(const fs::path& file, const fs::path& dir, bool exact_cdf) {
  std::ofstream gp(file);
  gp << "set terminal pngcairo size 1000,600 noenhanced\n"
        "set grid\n"
        "set key left top\n"
        // Latency spans decades: a log x axis keeps the median and the tail readable.
        "set output '" << (dir / "latency_cdf.png").string() << "'\n"
        "set title 'brisk profile: latency CDF" << (exact_cdf ? " (every traced job)" : " (histogram percentiles)") << "'\n"
        "set logscale x\n"
        "set xlabel 'microseconds'\n"
        "set ylabel 'fraction of jobs'\n"
        "set yrange [0:1]\n"
        "plot '" << (dir / "queue_wait_cdf.dat").string() << "' using 2:1 with lines lw 2 title 'queue wait', \\\n"
        "     '" << (dir / "run_time_cdf.dat").string() << "' using 2:1 with lines lw 2 title 'run time'\n"
        "unset logscale x\n"
        "set autoscale y\n"
        "set output '" << (dir / "throughput_depth.png").string() << "'\n"
        "set title 'brisk profile: throughput and queue depth over time'\n"
        "set xlabel 'seconds'\n"
        "set ylabel 'jobs/s'\n"
        "set y2label 'queued jobs'\n"
        "set ytics nomirror\n"
        "set y2tics\n"
        "set yrange [0:*]\n"
        "set y2range [0:*]\n"
        "plot '" << (dir / "timeline.dat").string() << "' using 1:2 with lines lw 2 title 'jobs/s', \\\n"
        "     '' using 1:3 axes x1y2 with lines lw 1 title 'queue depth'\n";
}

}  // namespace

std::vector<std::string> draw_plots(const Profile& p, const std::string& dir_name, std::string& note) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    note = "gnuplot not found: plots skipped (apt-get install gnuplot-nox)";
    return {};
  }
  const fs::path dir(dir_name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    note = "cannot create " + dir_name + ": " + ec.message();
    return {};
  }
  const bool exact = p.trace && !p.trace->queue_wait_ns.empty();
  write_cdf(dir / "queue_wait_cdf.dat", exact ? &p.trace->queue_wait_ns : nullptr, p.queue_wait);
  write_cdf(dir / "run_time_cdf.dat", exact ? &p.trace->run_ns : nullptr, p.run_time);
  write_timeline(dir / "timeline.dat", p);
  write_script(dir / "plots.gp", dir, exact);
  const std::string command = "gnuplot '" + (dir / "plots.gp").string() + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    note = "gnuplot failed on " + (dir / "plots.gp").string();
    return {};
  }
  return {(dir / "latency_cdf.png").string(), (dir / "throughput_depth.png").string()};
}

}  // namespace brisk::tools
