#include "worker/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "shard/job_fields.hpp"
#include "platform/cpu_affinity.hpp"
#include "platform/cpu_relax.hpp"

namespace brisk::detail {

namespace {
thread_local const WorkerIdentity* tls_worker = nullptr;
// Polls spent spinning with PAUSE (as a searcher) before yielding polls.
constexpr unsigned kSpinPolls = 64;
}  // namespace

const WorkerIdentity* this_thread_worker() noexcept { return tls_worker; }

Worker::Worker(const WorkerPorts& ports, unsigned index, int cpu)
    : ports_(ports),
      identity_{ports.engine, index},
      index_(index),
      cpu_(cpu),
      rng_(index * 2654435761u + 1),
      batch_(index, ports.settings.steal_batch, ports.tasks, ports.finished, ports.ticks),
      record_latency_(ports.settings.record_latency) {
  jobs_.resize(ports.settings.steal_batch);
  if (const std::size_t n = ports.settings.trace_events) {
    trace_ = std::make_unique<trace::TraceBuffer>(static_cast<std::uint16_t>(index), n);
  }
}

void Worker::start() { thread_ = std::thread([this] { run(); }); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  tls_worker = &identity_;
  tid_.store(static_cast<int>(::gettid()), std::memory_order_relaxed);
  if (cpu_ >= 0) pin_current_thread(cpu_);
  IdleWorkers& idle = ports_.idle;
  const unsigned spin_polls = ports_.settings.spin_polls;

  // Producers skip a wake while a worker searches, and while a wake is on
  // its way (park/idle_workers.hpp, "One wake at a time"). A worker that then
  // takes work (woken, or after a re-check or a search) may take only part of
  // what was posted meanwhile (a claim takes half of a ring): it wakes a
  // sleeper for the rest before it runs what it took.
  bool owes_wake = false;
  for (;;) {
    if (replaced()) {  // a replacement owns our shard now
      flush_credits();
      // This worker may have taken a wake meant for work it will not run.
      wake_another_if_work_left();
      return;
    }
    std::size_t n = find_work();
    if (n != 0) {
      if (owes_wake) wake_another_if_work_left();
      owes_wake = false;
      run_batch(n);
      continue;
    }
    owes_wake = false;  // nothing taken: the search below hands the baton on

    // Search: poll every shard for a while before paying for a futex sleep.
    // While it spins, this worker counts as a searcher, so producers need not
    // wake a sleeper.
    const unsigned spin = std::min(spin_polls, kSpinPolls);
    idle.begin_search();
    for (unsigned poll = 0; poll < spin && n == 0; ++poll) {
      cpu_relax();
      n = find_work();
    }
    const bool last_searcher = idle.end_search();
    if (n != 0) {
      // The last searcher to find work hands the baton on: if more work is
      // waiting, a sleeper must take it (producers skipped waking while we
      // searched).
      if (last_searcher) wake_another_if_work_left();
      run_batch(n);
      continue;
    }
    // Then poll yielding the CPU, because on a machine with more runnable
    // threads than cores the producer we wait for may need this one. No
    // longer a searcher: a yielding thread can lose its CPU for a whole time
    // slice, and producers must then wake a sleeper rather than wait for us.
    // Unless yielding stranded work lately: then park at once. Work found
    // here may have been posted while we still searched (its wake skipped).
    if (spin < spin_polls && (n = poll_yielding(spin_polls - spin)) != 0) {
      if (last_searcher) wake_another_if_work_left();
      run_batch(n);
      continue;
    }

    // Park. The order below is the worker half of the handshake documented in
    // park/idle_workers.hpp: read the epoch, announce sleep, re-check, sleep.
    idle.begin_search();
    const std::uint32_t epoch = idle.epoch();
    idle.searcher_to_sleeper();
    if (work_visible()) {
      idle.sleeper_to_searcher();
      idle.end_search();
      owes_wake = true;
      continue;
    }
    if (ports_.stopping.load(std::memory_order_acquire)) {
      idle.leave_sleep();
      flush_credits();
      return;
    }
    sleep_parked(epoch);
    owes_wake = true;
  }
}

void Worker::wake_another_if_work_left() {
  if (work_visible()) ports_.idle.notify_work();
}

std::size_t Worker::poll_yielding(unsigned polls) {
  const TickClock& ticks = ports_.ticks;
  std::uint64_t before = ticks.now();
  if (!yield_backoff_.may_yield(static_cast<std::int64_t>(ticks.to_ns(before)))) return 0;
  const std::uint64_t posted = ports_.shards.total_tail(), taken = ports_.shards.total_head();
  for (unsigned poll = 0; poll < polls; ++poll) {
    std::this_thread::yield();
    const std::size_t n = find_work();
    const std::uint64_t now = ticks.now();
    if (n != 0) {
      // Was the work found stranded here while this worker was off its CPU?
      std::uint64_t oldest = now;
      for (std::size_t i = 0; i < n; ++i) oldest = std::min(oldest, JobFields::submit_stamp(jobs_[i]));
      // Everything taken since the polls began, but for this worker's n.
      const std::uint64_t taken_since = ports_.shards.total_head() - taken;
      if (yield_backoff_.found_after_yield(static_cast<std::int64_t>(ticks.to_ns(now)),
                                           now > before ? ticks.to_ns(now - before) : 0,
                                           now > oldest ? ticks.to_ns(now - oldest) : 0,
                                           ports_.shards.total_tail() - posted,
                                           taken_since > n ? taken_since - n : 0)) {
        bump(counters_.stranded_yields);
      }
      return n;
    }
    before = now;
  }
  return 0;
}

void Worker::sleep_parked(std::uint32_t epoch) {
  IdleWorkers& idle = ports_.idle;
  bump(counters_.parks);
  const std::int64_t t0 = ports_.clock.now_ns();
  trace_event(trace::TraceKind::kPark, static_cast<std::uint64_t>(t0), 0);
  idle.sleep(epoch);
  idle.leave_sleep();
  const std::int64_t t1 = ports_.clock.now_ns();
  trace_event(trace::TraceKind::kUnpark, static_cast<std::uint64_t>(t1), 0);
  bump(counters_.parked_ns, static_cast<std::uint64_t>(t1 - t0));
}

std::size_t Worker::find_work() {
  const std::uint64_t cycle = cycle_.load(std::memory_order_relaxed);
  // relaxed: the pop's CAS on the ring head (acq_rel) orders this store
  // before the claim, for drain()'s acquire of the head.
  cycle_.store(cycle + 1, std::memory_order_relaxed);
  std::size_t n = take_own(jobs_.data(), jobs_.size());
  std::size_t victim = index_;
  if (n == 0) n = steal(jobs_.data(), jobs_.size(), victim);
  // Read after the claim: a job posted after start_trace() (or stop_trace())
  // returned was published after the switch changed, and the claim's acquire
  // of its slot makes that change visible here, so such a job is traced (or
  // not) exactly as its poster was told. An empty search reads it too: the
  // park and unpark that may follow are traced while it is on.
  tracing_ = trace_ && ports_.trace.on() ? trace_.get() : nullptr;
  if (tracing_ && victim != index_)
    trace_event(trace::TraceKind::kSteal, static_cast<std::uint64_t>(ports_.clock.now_ns()), 0,
                static_cast<std::uint32_t>(victim));
  if (n == 0) {
    // Going idle: hand finished jobs' credits back before searching.
    flush_credits();
    // release: nothing taken; drain() may stop waiting for us.
    cycle_.store(cycle + 2, std::memory_order_release);
  }
  return n;
}

std::size_t Worker::take_own(Job* into, std::size_t max) {
  Shard& own = ports_.shards[index_];
  // What this worker's own tasks posted into its overflow (their lanes were
  // full) comes before new outside work: a fan-out finishes before more is
  // taken in, and the overflow's bound is what its tasks may hold back.
  if (JobRing* overflow = own.overflow()) {
    if (std::size_t n = overflow->try_pop_bulk(into, max)) return n;
  }
  const LaneSchedule& schedule = ports_.lanes;
  const std::size_t preferred = schedule.lane_at(lane_cursor_);
  if (++lane_cursor_ == schedule.length()) lane_cursor_ = 0;
  // A batch per pick: one claim on the ring head for up to max jobs. Shares
  // between lanes stay those of the schedule when lanes are saturated.
  if (std::size_t n = own.lane(preferred).try_pop_bulk(into, max)) return n;
  for (std::size_t lane = 0; lane < own.lanes(); ++lane) {
    if (lane == preferred) continue;
    if (std::size_t n = own.lane(lane).try_pop_bulk(into, max)) return n;
  }
  return 0;
}

std::size_t Worker::steal(Job* into, std::size_t max, std::size_t& victim_out) {
  const std::size_t shards = ports_.shards.size();
  if (shards < 2) return 0;
  const std::size_t start = rng_() % shards;
  for (std::size_t k = 0; k < shards; ++k) {
    const std::size_t victim = (start + k) % shards;
    if (victim == index_) continue;
    Shard& shard = ports_.shards[victim];
    for (std::size_t r = 0; r < shard.rings(); ++r) {  // its lanes, then its overflow
      JobRing& ring = shard.ring(r);
      // try_pop_bulk takes half of what is there, so the owner keeps work.
      const std::size_t n = ring.try_pop_bulk(into, max);
      if (n != 0) {
        bump(counters_.stolen, n);
        bump(counters_.steal_batches);
        victim_out = victim;
        return n;
      }
    }
  }
  return 0;
}

void Worker::run_batch(std::size_t n) {
  if (record_latency_ || tracing_) {
    run_timed(n);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      execute(jobs_[i]);
      return_credits_if_due();
      if (batch_.has_completions()) batch_.flush_completions_if_due(ports_.ticks.now());  // no clock read otherwise
    }
  }
  batch_.end();
  // release: everything the jobs did happens-before a drain() that sees it.
  cycle_.store(cycle_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void Worker::run_timed(std::size_t n) {
  // One stamp per group of jobs: a group's end is the next group's start.
  // Stamps are TickClock ticks (platform/tick_clock.hpp); durations convert
  // to ns. A group is one job, except in a run of tiny jobs (see
  // kTimedGroup): a clock read costs about what an empty task does.
  const TickClock& ticks = ports_.ticks;
  std::uint64_t start = ticks.now();
  // Traces need times on the engine clock: anchor this batch's stamps to one
  // clock reading, so conversion error cannot build up over a long run.
  const std::int64_t anchor_ns = tracing_ ? ports_.clock.now_ns() : 0;
  const std::uint64_t anchor = start;
  const auto clock_ns = [&](std::uint64_t stamp) {
    const std::int64_t offset = stamp >= anchor ? static_cast<std::int64_t>(ticks.to_ns(stamp - anchor))
                                                : -static_cast<std::int64_t>(ticks.to_ns(anchor - stamp));
    return static_cast<std::uint64_t>(anchor_ns + offset);
  };
  for (std::size_t i = 0; i < n;) {
    // Traced jobs each need their own start and end events.
    const std::size_t group = !tracing_ && tiny_streak_ >= kTinyStreakToGroup ? std::min(kTimedGroup, n - i) : 1;
    std::uint64_t id = 0;
    if (tracing_) {
      const std::uint64_t submitted = JobFields::submit_stamp(jobs_[i]);
      const std::uint64_t waited_ns = start > submitted ? ticks.to_ns(start - submitted) : 0;
      id = std::uint64_t{index_} << 48 | ++trace_seq_;
      // One event for submit and start: the wait rides in arg.
      trace_event(trace::TraceKind::kStart, clock_ns(start), id,
                  static_cast<std::uint32_t>(std::min<std::uint64_t>(waited_ns, UINT32_MAX)));
    }
    for (std::size_t j = i; j < i + group; ++j) {
      execute(jobs_[j]);
      return_credits_if_due();
    }
    const std::uint64_t end = ticks.now();
    batch_.flush_completions_if_due(end);
    const std::uint64_t ran_ns = ticks.to_ns(end - start);
    const bool tiny = ran_ns < group * kTinyJobNs;
    if (record_latency_) record_group(i, group, start, end, ran_ns, tiny);
    if (tracing_) trace_event(trace::TraceKind::kEnd, clock_ns(end), id);
    tiny_streak_ = tiny ? tiny_streak_ + 1 : 0;
    if (tiny) tiny_job_ns_ = ran_ns / group;
    start = end;
    i += group;
  }
  if (tracing_) ports_.trace.spend(2 * n, anchor_ns);  // a start and an end per job
}

void Worker::record_group(std::size_t first, std::size_t group, std::uint64_t start, std::uint64_t end,
                          std::uint64_t ran_ns, bool tiny) {
  const TickClock& ticks = ports_.ticks;
  // Queue wait runs from a job's submission to its start. A job alone or in
  // a group of tiny jobs is taken to start with its group (short by the
  // tiny jobs ahead of it: under kTimedGroup * kTinyJobNs). In a group that
  // held a long job the starts are unknown: counted to the group's end, an
  // upper bound, so that a tail is never hidden.
  const std::uint64_t started = group == 1 || tiny ? start : end;
  for (std::size_t j = first; j < first + group; ++j) {
    const std::uint64_t submitted = JobFields::submit_stamp(jobs_[j]);
    queue_wait_.record(started > submitted ? ticks.to_ns(started - submitted) : 0);
  }
  bump(counters_.busy_ns, ran_ns);
  if (group == 1) {
    run_time_.record(ran_ns);
  } else if (tiny) {
    // The average, split so that the sum stays exact.
    const std::uint64_t each = ran_ns / group, longer = ran_ns % group;
    if (longer != 0) run_time_.record(each + 1, longer);
    run_time_.record(each, group - longer);
  } else {
    // Taken for a long job among tiny ones (the usual cause: one outlier):
    // the others as long as the last tiny jobs, the long one the rest, so
    // the sum and the maximum stay right. (No underflow: tiny_job_ns_ is
    // under kTinyJobNs and this group ran at least group * kTinyJobNs.)
    // When all the jobs turned slower at once, this one group's shape is
    // wrong; the next group times every job again.
    run_time_.record(tiny_job_ns_, group - 1);
    run_time_.record(ran_ns - tiny_job_ns_ * (group - 1));
  }
}

void Worker::return_credits_if_due() {
  // Batched to spare the shared counter, but at once when a producer waits.
  if (credits_to_return_ >= 64 || (credits_to_return_ != 0 && ports_.credits.has_waiters())) {
    flush_credits();
  }
}

void Worker::flush_credits() {
  if (credits_to_return_ == 0) return;
  ports_.finished.return_credits(credits_to_return_);
  credits_to_return_ = 0;
}

void Worker::execute(Job& job) {
  if (JobFields::returns_credit(job)) ++credits_to_return_;
  batch_.next_job();
  try {
    job.run(&batch_);
  } catch (...) {
    bump(counters_.failed);
  }
  bump(counters_.executed);
}

bool Worker::work_visible() const {
  for (std::size_t s = 0; s < ports_.shards.size(); ++s) {
    const Shard& shard = ports_.shards[s];
    for (std::size_t r = 0; r < shard.rings(); ++r) {
      if (!shard.ring(r).empty_approx()) return true;
    }
  }
  return false;
}

}  // namespace brisk::detail
