#include "brisk/profile_attach.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace brisk::tools {
namespace {

httplib::Client connect(const std::string& url, const std::string& token, std::chrono::seconds read_timeout) {
  httplib::Client client(url);
  if (!client.is_valid()) throw std::runtime_error("not an http URL: " + url);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(read_timeout);
  if (!token.empty()) client.set_bearer_token_auth(token);
  return client;
}

std::string get(httplib::Client& client, const std::string& url, const std::string& path) {
  const httplib::Result res = client.Get(path);
  if (!res) throw std::runtime_error("GET " + url + path + ": " + httplib::to_string(res.error()));
  if (res->status != 200) {
    throw std::runtime_error("GET " + url + path + ": " + std::to_string(res->status) + " " + res->body);
  }
  return res->body;
}

// A sample of the plots' series from one snapshot.
StatsSample sample_of(const std::string& snapshot, double t_s) {
  const nlohmann::json s = nlohmann::json::parse(snapshot)["stats"];
  return {t_s, s.value("executed", std::uint64_t{0}), s.value("queued", std::uint64_t{0}),
          s.value("credits_outstanding", std::int64_t{0})};
}

}  // namespace

WorkloadRun attach_run(const std::string& url, double seconds, const std::string& token, unsigned sample_ms) {
  const long whole = std::lround(seconds);
  if (whole < 1) throw std::runtime_error("--seconds must be at least 1 with --attach (whole seconds)");
  auto client = connect(url, token, std::chrono::seconds(whole + 60));
  WorkloadRun run;
  run.snapshot_before = get(client, url, "/debug/brisk/snapshot");
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t executed0 = sample_of(run.snapshot_before, 0).executed;

  // The server has a second thread for this while the trace request waits.
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    auto side = connect(url, token, std::chrono::seconds(10));
    while (!done.load(std::memory_order_relaxed)) {  // relaxed: a stop flag, publishes nothing
      std::this_thread::sleep_for(std::chrono::milliseconds(sample_ms));
      const httplib::Result res = side.Get("/debug/brisk/snapshot");
      if (!res || res->status != 200) continue;  // a missed sample is a gap in a plot, not an error
      StatsSample s = sample_of(res->body, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      s.executed -= std::min(s.executed, executed0);
      run.samples.push_back(s);
    }
  });
  try {
    run.trace_json = get(client, url, "/debug/brisk/trace?seconds=" + std::to_string(whole));
  } catch (...) {
    done = true;
    sampler.join();
    throw;
  }
  done = true;
  sampler.join();
  run.snapshot_after = get(client, url, "/debug/brisk/snapshot");
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run;
}

}  // namespace brisk::tools
