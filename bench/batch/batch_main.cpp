// A batch of N tasks with a callback, end to end (issue 17): from the first
// submission to the callback running, in memory, beside the same join done
// the usual ways: oneTBB task_group::run x N then wait() then the callback,
// and a moodycamel::BlockingConcurrentQueue pool whose tasks count down an
// atomic (the last one runs the callback). Every system gets the same
// worker count and the same task body (a short spin), and the systems take
// turns (interleaved rounds), so a load change on a shared machine hits
// them alike; the report gives each one's median and its ratio to brisk's.
// With --durable, brisk's batch is also measured durable (fsync interval,
// the log under --wal-dir), beside the same batch on a redis-server of its
// own with appendfsync everysec (redis_batch.hpp), --redis-reps batches a
// round (a Redis batch costs round trips per task: fewer reps).
//
//   brisk_batch [--tasks 1000] [--rounds 15] [--reps 20] [--workers 2] [--durable [--redis-reps 2]]
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <tbb/global_control.h>
#include <tbb/task_group.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"
#include "redis_batch.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// The task body: about 200 ns of work, so the join, not the body, is measured.
void body() {
  const auto until = Clock::now() + std::chrono::nanoseconds(200);
  while (Clock::now() < until) {
  }
}

// Waits for a flag without sleeping (all systems alike): the callback sets it.
void wait_for(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

class BriskBatch {
 public:
  BriskBatch(unsigned workers, const std::string& wal_dir) {
    brisk::EngineConfig config;
    config.workers = workers;
    config.pin_workers = false;
    if (!wal_dir.empty()) {
      config.durability.wal_dir = wal_dir;
      config.durability.fsync = brisk::FsyncPolicy::interval;
    }
    engine_ = std::make_unique<brisk::Engine>(config);
    engine_->register_task("work", [](brisk::TaskContext&) { body(); });
    engine_->register_task("done", [this](brisk::TaskContext&) { done_.store(true, std::memory_order_release); });
    engine_->start();
  }
  void run(int tasks) {
    done_.store(false, std::memory_order_relaxed);
    brisk::BatchOptions batch;
    batch.on_complete = {"done", ""};
    brisk::TaskOptions member;
    member.batch = engine_->open_batch(std::move(batch));
    for (int i = 0; i < tasks; ++i) {
      while (!engine_->submit("work", {}, member)) std::this_thread::yield();  // full rings: retry
    }
    engine_->seal_batch(member.batch);
    wait_for(done_);
  }

 private:
  std::unique_ptr<brisk::Engine> engine_;
  std::atomic<bool> done_{false};
};

class TbbGroup {
 public:
  explicit TbbGroup(unsigned workers) : control_(tbb::global_control::max_allowed_parallelism, workers + 1) {}
  void run(int tasks) {
    std::atomic<bool> done{false};
    tbb::task_group group;
    for (int i = 0; i < tasks; ++i) group.run([] { body(); });
    group.wait();
    done.store(true, std::memory_order_release);  // the callback, on the waiting thread
    wait_for(done);
  }

 private:
  tbb::global_control control_;
};

// Workers dequeue in bulk; each batch task decrements the batch's counter,
// and the one that takes it to zero runs the callback.
class MoodycamelCounter {
 public:
  explicit MoodycamelCounter(unsigned workers) {
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~MoodycamelCounter() {
    stop_.store(true, std::memory_order_relaxed);
    for (std::thread& t : threads_) t.join();
  }
  void run(int tasks) {
    std::atomic<bool> done{false};
    std::atomic<int> remaining{tasks};
    for (int i = 0; i < tasks; ++i) {
      queue_.enqueue([&] {
        body();
        if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) done.store(true, std::memory_order_release);
      });
    }
    wait_for(done);
  }

 private:
  void work() {
    moodycamel::ConsumerToken token(queue_);
    std::function<void()> batch[64];
    while (!stop_.load(std::memory_order_relaxed)) {
      const std::size_t n = queue_.wait_dequeue_bulk_timed(token, batch, 64, std::chrono::milliseconds(1));
      for (std::size_t i = 0; i < n; ++i) {
        batch[i]();
        batch[i] = nullptr;
      }
    }
  }
  moodycamel::BlockingConcurrentQueue<std::function<void()>> queue_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Microseconds per batch: the median of `reps` batches.
template <class System>
double median_us(System& system, int tasks, int reps) {
  std::vector<double> us;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    system.run(tasks);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = 1000, rounds = 15, reps = 20, redis_reps = 2, redis_port = 6391;
  unsigned workers = 2;
  bool durable = false;
  std::string wal_dir = "/tmp/brisk-batch-bench-" + std::to_string(::getpid());
  CLI::App app("A batch of N tasks with a callback, end to end, beside oneTBB and a moodycamel pool");
  app.add_option("--tasks", tasks, "tasks per batch")->check(CLI::Range(1, 1'000'000));
  app.add_option("--rounds", rounds, "interleaved rounds (each: every system, reps batches)")->check(CLI::Range(1, 1000));
  app.add_option("--reps", reps, "batches per system per round")->check(CLI::Range(1, 100000));
  app.add_option("--workers", workers, "worker threads, every system")->check(CLI::Range(1u, 256u));
  app.add_flag("--durable", durable, "also brisk with a durable batch (fsync interval)");
  app.add_option("--wal-dir", wal_dir, "the durable run's log directory (removed after)");
  app.add_option("--redis-reps", redis_reps, "with --durable: Redis batches per round")->check(CLI::Range(1, 100000));
  app.add_option("--redis-port", redis_port, "with --durable: the redis-server's port (loopback)");
  CLI11_PARSE(app, argc, argv);

  BriskBatch brisk_memory(workers, {});
  TbbGroup tbb_group(workers);
  MoodycamelCounter moodycamel(workers);
  std::filesystem::remove_all(wal_dir);
  std::unique_ptr<BriskBatch> brisk_durable;
  if (durable) brisk_durable = std::make_unique<BriskBatch>(workers, wal_dir);
  std::unique_ptr<brisk_bench::RedisBatch> redis;
  if (durable) {
    redis = std::make_unique<brisk_bench::RedisBatch>(workers, std::filesystem::path(wal_dir).parent_path().string(),
                                                      "everysec", redis_port, body);
  }

  std::vector<double> b, t, m, d, r;
  for (int round = 0; round < rounds; ++round) {
    b.push_back(median_us(brisk_memory, tasks, reps));
    t.push_back(median_us(tbb_group, tasks, reps));
    m.push_back(median_us(moodycamel, tasks, reps));
    if (brisk_durable) d.push_back(median_us(*brisk_durable, tasks, reps));
    if (redis) r.push_back(median_us(*redis, tasks, redis_reps));
  }
  const double bm = median(b);
  std::printf("batch of %d tasks + callback, %u workers, median of %d rounds x %d batches (interleaved)\n", tasks,
              workers, rounds, reps);
  std::printf("%-26s %12s %14s %10s\n", "system", "us/batch", "tasks/s", "vs brisk");
  auto row = [&](const char* name, double us) {
    std::printf("%-26s %12.1f %14.0f %9.2fx\n", name, us, tasks / us * 1e6, us / bm);
  };
  row("brisk (memory)", bm);
  row("oneTBB task_group+wait", median(t));
  row("moodycamel pool+counter", median(m));
  if (brisk_durable) row("brisk (durable, interval)", median(d));
  if (redis) row("redis (AOF everysec)", median(r));
  brisk_durable.reset();
  std::filesystem::remove_all(wal_dir);
  return 0;
}
