// Write-ahead log: durable append throughput through group commit (64-byte
// payloads) under each fsync policy and producer count, ack latency
// percentiles, the cost of one fdatasync, and recovery read speed.
//
// Issue targets: `always` >= 3M tasks/s, p99 ack < 2 ms, recovery >= 200 MB/s.
// Logs go to BRISK_WAL_BENCH_DIR (default /tmp): point it at the disk you
// mean to measure.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "wal/log_writer.hpp"

namespace wal = brisk::detail::wal;

namespace {

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("BRISK_WAL_BENCH_DIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/brisk-wal-bench-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "/tmp";
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<wal::Wal> open_log(const std::string& dir, wal::FsyncPolicy policy) {
  wal::WalOptions o;
  o.dir = dir;
  o.fsync = policy;
  o.fsync_interval = std::chrono::milliseconds(100);
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  if (!wal::Wal::open(o, &log, &state)) return nullptr;
  return log;
}

wal::TaskImage task_with_64_byte_payload() {
  wal::TaskImage t;
  t.type_name = "bench.task";
  t.payload.assign(64, 'p');
  t.submit_ns = 1;
  return t;
}

// Producers submit and never wait, except that each keeps at most
// `window` records unacknowledged (as an engine bounding durable submits in
// flight would); at the end everything is waited for. Items: tasks acked.
void BM_WalAppend(benchmark::State& state) {
  const auto policy = static_cast<wal::FsyncPolicy>(state.range(0));
  const int producers = static_cast<int>(state.range(1));
  constexpr std::uint64_t kWindow = 1 << 16;
  BenchDir dir;
  auto log = open_log(dir.path(), policy);
  if (!log) {
    state.SkipWithError("open failed");
    return;
  }
  const wal::TaskImage task = task_with_64_byte_payload();
  constexpr std::uint64_t kPerProducer = 200'000;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        wal::TaskImageRef ref = wal::as_ref(task);
        // Each producer in its own stream, as the engine's producer threads are.
        const auto stream = static_cast<std::uint32_t>(p);
        brisk::TaskId id = 0;
        for (std::uint64_t i = 0; i < kPerProducer; ++i) {
          const wal::WalTicket t = log->append_numbered(ref, stream, &id);
          if (t.nth() > kWindow) log->wait(t.earlier(kWindow));
        }
      });
    }
    for (auto& t : threads) t.join();
    log->sync();
  }
  const wal::WalStats s = log->stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * producers * kPerProducer);
  state.SetBytesProcessed(static_cast<std::int64_t>(s.bytes));
  state.counters["batches"] = static_cast<double>(s.batches);
  state.counters["records_per_batch"] = static_cast<double>(s.records) / std::max<std::uint64_t>(1, s.batches);
  state.counters["syncs"] = static_cast<double>(s.syncs);
  state.SetLabel(std::string(wal::to_string(policy)));
}
BENCHMARK(BM_WalAppend)
    ->ArgsProduct({{static_cast<int>(wal::FsyncPolicy::always), static_cast<int>(wal::FsyncPolicy::interval),
                    static_cast<int>(wal::FsyncPolicy::never)},
                   {1, 2, 4}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// Ack latency under `always`: append then wait, from several threads at
// once (each a client waiting for its own durable ack). Reports p50/p99.
void BM_WalAckLatency(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  BenchDir dir;
  auto log = open_log(dir.path(), wal::FsyncPolicy::always);
  const wal::TaskImage task = task_with_64_byte_payload();
  std::vector<std::vector<std::int64_t>> samples(producers);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < 2000; ++i) {
          const auto start = std::chrono::steady_clock::now();
          log->append_and_wait(wal::as_ref(task));
          samples[p].push_back((std::chrono::steady_clock::now() - start).count());
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  std::vector<std::int64_t> all;
  for (const auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  const auto pct = [&](double q) { return static_cast<double>(all[static_cast<std::size_t>(q * (all.size() - 1))]) / 1e3; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = pct(1.0);
  state.SetItemsProcessed(static_cast<std::int64_t>(all.size()));
}
BENCHMARK(BM_WalAckLatency)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// One 4 KiB append plus fdatasync: the floor under `always` ack latency.
void BM_WalFdatasync(benchmark::State& state) {
  BenchDir dir;
  std::unique_ptr<wal::WalFile> file;
  if (!wal::WalEnv::posix().new_file(dir.path() + "/sync-probe", &file)) {
    state.SkipWithError("open failed");
    return;
  }
  const std::string block(4096, 'x');
  const std::string_view piece = block;
  for (auto _ : state) {
    file->append({&piece, 1});
    file->sync();
  }
  file->close();
}
BENCHMARK(BM_WalFdatasync)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Recovery: read and fold a log of submitted-then-completed tasks.
void BM_WalRecovery(benchmark::State& state) {
  BenchDir dir;
  {
    auto log = open_log(dir.path(), wal::FsyncPolicy::never);
    wal::TaskImageRef ref = wal::as_ref(task_with_64_byte_payload());
    for (brisk::TaskId id = 1; id <= 1'000'000; ++id) {
      ref.id = id;
      log->append(ref);
      if (id % 4 != 0) log->append(wal::TaskCompleted{{id}});
    }
    log->close();
  }
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    wal::RecoveredState recovered;
    wal::recover(wal::WalEnv::posix(), dir.path(), {}, &recovered);
    bytes += recovered.report.bytes;
    benchmark::DoNotOptimize(recovered.incomplete.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_WalRecovery)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
