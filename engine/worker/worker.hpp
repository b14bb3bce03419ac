// Worker: one pinned thread that runs jobs.
//
// Loop: take from its own shard (weighted lane pick); when that is empty,
// search: steal a batch from a random victim shard, polling up to
// spin_polls times; then park on the futex (IdleWorkers). A job that throws
// is counted as failed and the loop goes on.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "brisk/detail/job.hpp"
#include "metrics/latency_histogram.hpp"
#include "park/yield_backoff.hpp"
#include "platform/cache_line.hpp"
#include "trace/trace_buffer.hpp"
#include "worker/this_thread_worker.hpp"
#include "worker/worker_batch.hpp"
#include "worker/worker_ports.hpp"

namespace brisk::detail {

struct TaskRecord;

class Worker {
 public:
  // ports outlive the worker (the engine owns what they name).
  Worker(const WorkerPorts& ports, unsigned index, int cpu);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void join();

  unsigned index() const noexcept { return index_; }
  int cpu() const noexcept { return cpu_; }

  // Odd while the worker is between "about to take a job" and "finished
  // running what it took"; even otherwise. drain() waits for odd values to
  // move on. Written only by the worker.
  std::uint64_t cycle() const noexcept { return cycle_.load(std::memory_order_acquire); }

  // The watchdog takes the attempt past its hard limit, if any (WorkerBatch::take_overrun).
  TaskRecord* take_overrun(std::int64_t now_ns) noexcept { return batch_.take_overrun(now_ns); }
  // A replacement took over this worker's shard: it exits once its handler returns.
  void mark_replaced() noexcept { replaced_.store(true, std::memory_order_release); }
  bool replaced() const noexcept { return replaced_.load(std::memory_order_acquire); }

  // Counters, written only by this worker (relaxed: independent totals read
  // for reporting; a reader may see a slightly stale value).
  struct Counters {
    std::atomic<std::uint64_t> executed{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> stolen{0};
    std::atomic<std::uint64_t> steal_batches{0};
    std::atomic<std::uint64_t> parks{0};
    std::atomic<std::uint64_t> busy_ns{0};
    std::atomic<std::uint64_t> parked_ns{0};
    std::atomic<std::uint64_t> stranded_yields{0};
  };
  const Counters& counters() const noexcept { return counters_; }
  // Single-writer histograms; readers merge them (HistogramSnapshot).
  const metrics::LatencyHistogram& queue_wait() const noexcept { return queue_wait_; }
  const metrics::LatencyHistogram& run_time() const noexcept { return run_time_; }
  // The worker's trace ring, or nullptr when the engine has none.
  trace::TraceBuffer* trace() noexcept { return trace_.get(); }
  const trace::TraceBuffer* trace() const noexcept { return trace_.get(); }
  // The thread's Linux id (for /proc/self/task/<tid>), 0 before it runs.
  // Relaxed: a number read for reporting; it points to no other memory.
  int tid() const noexcept { return tid_.load(std::memory_order_relaxed); }

 private:
  void run();
  // Takes one job from the own shard or steals a batch into jobs_; returns
  // how many. Marks the cycle odd first (and even again if it found none).
  std::size_t find_work();
  std::size_t take_own(Job* into, std::size_t max);
  // Sets victim_out to the shard it took from, when it took any.
  std::size_t steal(Job* into, std::size_t max, std::size_t& victim_out);
  void run_batch(std::size_t n);  // runs jobs_[0..n), marks the cycle even
  // run_batch with latency histograms or tracing on: stamps jobs as it goes.
  void run_timed(std::size_t n);
  // Records queue waits and run time of jobs_[first, first + group), which
  // ran from tick `start` to `end` (ran_ns, tiny: under kTinyJobNs a job).
  void record_group(std::size_t first, std::size_t group, std::uint64_t start, std::uint64_t end,
                    std::uint64_t ran_ns, bool tiny);
  void execute(Job& job);
  // Between two jobs: returns the credits of finished jobs once enough
  // have gathered or a producer waits.
  void return_credits_if_due();
  void trace_event(trace::TraceKind kind, std::uint64_t ts, std::uint64_t id, std::uint32_t arg = 0) noexcept {
    if (tracing_) tracing_->record(trace::TraceEvent{ts, id, arg, static_cast<std::uint16_t>(index_), kind});
  }
  // Up to `polls` polls, each after a sched_yield; returns the jobs found
  // (0: none, or yielding is backing off; see park/yield_backoff.hpp).
  std::size_t poll_yielding(unsigned polls);
  void sleep_parked(std::uint32_t epoch);
  // Wakes a sleeper if any ring holds work (see run()).
  void wake_another_if_work_left();
  bool work_visible() const;
  void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  const WorkerPorts ports_;
  const WorkerIdentity identity_;
  const unsigned index_;
  const int cpu_;
  std::thread thread_;
  std::size_t lane_cursor_ = 0;
  std::minstd_rand rng_;
  std::vector<Job> jobs_;  // taken or stolen jobs, sized once to steal_batch
  std::int64_t credits_to_return_ = 0;  // of finished producer jobs, batched
  WorkerBatch batch_;  // what the jobs of a batch hand back (records, completions)
  const bool record_latency_;
  // Timing every job costs a clock read each: ~9 ns on this project's VM,
  // as much as running an empty task, so it halved empty-task throughput.
  // Once kTinyStreakToGroup timings in a row found jobs under kTinyJobNs,
  // jobs are timed kTimedGroup at a time (run time: the group's average
  // each; see record_group for queue wait), until a group is not tiny.
  // A job of kTinyJobNs or more pays under 4% for its own clock read.
  static constexpr std::uint64_t kTinyJobNs = 250;
  static constexpr std::size_t kTimedGroup = 8;
  static constexpr std::uint32_t kTinyStreakToGroup = 16;
  std::uint32_t tiny_streak_ = 0;
  std::uint64_t tiny_job_ns_ = 0;  // a job's run time in the last tiny group
  YieldBackoff yield_backoff_;
  std::uint64_t trace_seq_ = 0;         // ids for traced jobs: index << 48 | seq
  std::unique_ptr<trace::TraceBuffer> trace_;
  // trace_ while the engine's TraceSwitch is on, else nullptr: read once
  // per find_work(), right after its claim, kept for the batch it took.
  trace::TraceBuffer* tracing_ = nullptr;
  std::atomic<int> tid_{0};
  metrics::LatencyHistogram queue_wait_;
  metrics::LatencyHistogram run_time_;
  void flush_credits();

  alignas(kCacheLine) std::atomic<std::uint64_t> cycle_{0};
  std::atomic<bool> replaced_{false};
  Counters counters_;
};

}  // namespace brisk::detail
