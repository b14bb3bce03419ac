// The raw numbers: every repetition of every measurement, for later analysis.
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "report/results.hpp"

namespace peers {

namespace {

using nlohmann::json;

json samples(const Samples& s) {
  return {{"median", s.median()}, {"min", s.min()}, {"max", s.max()}, {"runs", s.values}};
}

json latency_run(const LatencyRun& r) {
  return {{"offered", r.offered}, {"achieved", r.achieved}, {"drain_ms", r.drain_ms},
          {"sustained", r.sustained}, {"p50_us", r.p50_us}, {"p99_us", r.p99_us},
          {"p999_us", r.p999_us}, {"max_us", r.max_us}};
}

}  // namespace

void write_json(const Results& r, const std::string& path) {
  const Meta& m = r.meta;
  json out;
  out["meta"] = {{"date", m.date}, {"host", m.host}, {"kernel", m.kernel}, {"cpu", m.cpu},
                 {"cpus", m.cpus}, {"threads", m.threads}, {"repetitions", m.repetitions},
                 {"short", m.short_mode}, {"pin_brisk", m.pin_brisk}, {"busy_threads", m.busy}, {"compiler", m.compiler},
                 {"flags", m.flags}, {"spin_iters_1us", m.spin_1us_iters},
                 {"spin_iters_10us", m.spin_10us_iters}};
  out["systems"] = r.systems;
  for (const ThroughputResult& t : r.throughput) {
    json row = {{"id", t.spec.id}, {"title", t.spec.title}, {"tasks", t.spec.tasks},
                {"unit", "tasks/s"}};
    for (std::size_t i = 0; i < r.systems.size(); ++i) {
      row["systems"][std::string(r.systems[i])] = samples(t.per_system[i]);
      if (i < t.host_cpus.size() && !t.host_cpus[i].values.empty()) {
        row["busy_threads_cpus"][std::string(r.systems[i])] = samples(t.host_cpus[i]);
      }
    }
    out["throughput"].push_back(row);
  }
  for (const LatencyResult& l : r.latency) {
    json row = {{"rate", l.rate}};
    for (std::size_t i = 0; i < r.systems.size(); ++i) {
      json& sys = row["systems"][std::string(r.systems[i])];
      for (const LatencyRun& run : l.per_system[i]) sys["runs"].push_back(latency_run(run));
      sys["median_p50_us"] = LatencyResult::field(l.per_system[i], &LatencyRun::p50_us).median();
      sys["median_p99_us"] = LatencyResult::field(l.per_system[i], &LatencyRun::p99_us).median();
      sys["median_p999_us"] = LatencyResult::field(l.per_system[i], &LatencyRun::p999_us).median();
      sys["median_max_us"] = LatencyResult::field(l.per_system[i], &LatencyRun::max_us).median();
    }
    out["latency"].push_back(row);
  }
  for (const ScalingResult& s : r.scaling) {
    out["scaling"].push_back({{"tasks", s.tasks}, {"tasks_per_s", samples(s.tasks_per_s)},
                              {"ns_per_task_median", 1e9 / s.tasks_per_s.median()}});
  }
  out["hardware"] = {
      {"ping_pong_round_trip_ns", {{"median", r.ping_pong.round_trip_ns}, {"min", r.ping_pong.min_ns}, {"max", r.ping_pong.max_ns}}},
      {"disk", {{"dir", r.disk.dir}, {"fs", r.disk.fs}, {"appends", r.disk.appends},
                {"fdatasync_4k_p50_us", r.disk.fdatasync_p50_us}, {"fdatasync_4k_p99_us", r.disk.fdatasync_p99_us},
                {"fdatasync_4k_max_us", r.disk.fdatasync_max_us}, {"write_mib", r.disk.write_mib},
                {"write_mib_per_s", r.disk.write_mib_per_s}}}};
  std::ofstream file(path);
  if (!file) throw std::runtime_error("cannot write " + path);
  file << out.dump(2) << '\n';
}

}  // namespace peers
