// TaskRecord: the engine's state for one named task, from accept to its final
// outcome. Records live in the TaskTable (never freed one by one), so a
// TaskId can be resolved to its record without a lock for cancel().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "brisk/task.hpp"
#include "timer/timer_wheel.hpp"

namespace brisk::detail {

enum class RecordState : std::uint32_t {
  free,       // in the table's free list
  queued,     // in a ring, waiting for a worker
  waiting,    // in the DelayScheduler: a delay, a retry backoff or a rate limit
  running,    // a worker is running its handler
  // cancel() of a queued or waiting task is two steps, because it logs the
  // cancellation (durable tasks) before it answers, and must still read the
  // record meanwhile:
  cancelling,  // cancel() won and is logging it: no one releases the record
  cancelled,   // cancel() is done: whoever holds the record next releases it
  // Its holder (a worker, the timer) met it while cancelling: cancel()
  // releases it when done. The last of the two to let go releases.
  left_to_canceller,
  // A handler took its outcome away (TaskContext::defer). These four carry
  // the attempt beside the state (deferral_word), so a handle of an earlier
  // attempt of the same task matches none of them. All are `running` to
  // status(), and cancel() only asks them to stop.
  deferring,     // the handler called defer() and is still running
  handing_over,  // completed before the handler returned: the outcome is being
                 // written into the handler's context
  handed_over,   // ... written: the worker takes it when the handler returns
  deferred,      // the handler returned: its handle (or the hard limit) ends the attempt
};

struct FailureEntry {
  std::int64_t time_ns;
  std::uint32_t attempt;
  std::string message;
};

// The failed attempts of one task, kept for the dead-letter queue. One
// pointer wide while empty, as it is for most tasks, so that a pending record
// stays small (10M delayed tasks must fit in 1.5 GiB).
class FailureLog {
 public:
  FailureLog() = default;
  FailureLog(const FailureLog& other) { *this = other; }
  FailureLog& operator=(const FailureLog& other) {
    if (this != &other) {
      entries_ = other.entries_ ? std::make_unique<std::vector<FailureEntry>>(*other.entries_) : nullptr;
    }
    return *this;
  }

  void push_back(FailureEntry entry) {
    if (!entries_) entries_ = std::make_unique<std::vector<FailureEntry>>();
    entries_->push_back(std::move(entry));
  }
  void clear() noexcept { entries_.reset(); }
  std::size_t size() const noexcept { return entries_ ? entries_->size() : 0; }
  FailureEntry* begin() noexcept { return entries_ ? entries_->data() : nullptr; }
  FailureEntry* end() noexcept { return entries_ ? entries_->data() + entries_->size() : nullptr; }
  const FailureEntry* begin() const noexcept { return entries_ ? entries_->data() : nullptr; }
  const FailureEntry* end() const noexcept { return entries_ ? entries_->data() + entries_->size() : nullptr; }

 private:
  std::unique_ptr<std::vector<FailureEntry>> entries_;
};

// A TimerNode first, so the DelayScheduler links records into its wheel
// without any allocation; while a record waits in the scheduler's inbox
// (before the wheel), the node's `prev` is the inbox link.
struct TaskRecord : TimerNode {
  // generation << 32 | RecordState: the state machine's single source of
  // truth. The generation is bumped on every reuse, so a CAS that names a
  // stale TaskId's generation fails instead of touching a newer task; CAS
  // transitions decide races such as queued -> running vs queued -> cancelled.
  std::atomic<std::uint64_t> state_word{0};
  std::uint32_t index = 0;             // position in the TaskTable (fixed)
  std::atomic<std::uint32_t> next_free{0};  // free-list link (index + 1, 0 = none)

  std::uint32_t type = 0;              // TaskRegistry index
  // Attempts started so far. Atomic only so that Engine::status() may read
  // it while the task runs; one thread at a time writes it (relaxed: a
  // count with no data behind it).
  std::atomic<std::uint32_t> attempt{0};
  Priority priority = priority::normal;
  bool holds_credit = false;           // submitted through a Producer
  bool holds_gate_slot = false;        // handed a ConcurrencyGate slot while parked
  bool holds_rate_turn = false;        // took its turn at its type's rate (RateLimiter::reserve)
  std::uint8_t free_list = 0;          // home TaskTable list: its last taker's, where it returns
  std::uint64_t durable_id = 0;        // WAL id; 0: not durable
  std::int64_t submit_ns = 0;            // accepted at (engine clock); 0 if nothing needed the time
  // For Engine::status(), which reads them while the task lives: written
  // with release, read relaxed between two reads of state_word (a seqlock
  // reader, status/task_status.cpp).
  std::atomic<std::uint64_t> accepted_stamp{0};  // TickClock stamp of the acceptance
  std::atomic<std::int64_t> started_ns{0};       // the last attempt's start (engine clock, coarse)
  // The payload, then the idempotency key (its last key_bytes bytes): one
  // buffer, so a record without a key is no larger for having a place for
  // one, and the table's kept buffers serve both.
  std::string payload_and_key;
  std::uint16_t key_bytes = 0;         // keys are at most 1024 bytes
  std::uint32_t workflow = 0;          // its batch / chain link (Workflows); 0: none
  FailureLog failures;                 // empty unless an attempt failed
  // Set by cancel() of a running task or its hard time limit: the handler
  // polls it through TaskContext::cancellation_requested(). relaxed: a flag
  // with no data behind it.
  std::atomic<bool> stop_requested{false};
  // Set by the watchdog once it has copied an attempt that overran its hard
  // limit into a new record: the stuck worker discards its late result.
  std::atomic<bool> abandoned{false};
  // The generation of the last of its tasks whose end was told to
  // FinishedTasks (0: none yet). Never cleared, and generations only grow:
  // a waiter that registers while the task ends reads it to tell a task
  // that ended (its entry maybe evicted at once) from one still to end
  // (status/finished_tasks.cpp).
  std::atomic<std::uint32_t> ended_generation{0};

  std::string_view payload() const noexcept {
    return std::string_view(payload_and_key).substr(0, payload_and_key.size() - key_bytes);
  }
  std::string_view idempotency_key() const noexcept {
    return std::string_view(payload_and_key).substr(payload_and_key.size() - key_bytes);
  }
  // Takes the caller's payload buffer (no copy) and appends the key to it.
  void set_payload(std::string&& payload, std::string_view key) {
    payload_and_key = std::move(payload);
    payload_and_key.append(key);
    key_bytes = static_cast<std::uint16_t>(key.size());
  }
  // Moves the payload out (for a dead letter), leaving the record's buffer empty.
  std::string take_payload() {
    payload_and_key.resize(payload_and_key.size() - key_bytes);
    key_bytes = 0;
    return std::move(payload_and_key);
  }
};

inline std::uint64_t state_word(std::uint32_t generation, RecordState state) noexcept {
  return static_cast<std::uint64_t>(generation) << 32 | static_cast<std::uint32_t>(state);
}
inline std::uint32_t generation_of(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word >> 32);
}
inline RecordState state_of(std::uint64_t word) noexcept {
  return static_cast<RecordState>(static_cast<std::uint8_t>(word));  // bits 8..31: deferral_word
}
// generation << 32 | (attempt mod 2^24) << 8 | state: the deferral states'
// word. 2^24 attempts of one task apart from each other cannot both be alive.
inline std::uint64_t deferral_word(std::uint32_t generation, std::uint32_t attempt, RecordState state) noexcept {
  return state_word(generation, state) | static_cast<std::uint64_t>(attempt & 0xffffffu) << 8;
}
inline std::uint64_t with_state(std::uint64_t word, RecordState state) noexcept {
  return (word & ~std::uint64_t{0xff}) | static_cast<std::uint32_t>(state);
}
inline bool is_running(RecordState state) noexcept {
  return state == RecordState::running || state >= RecordState::deferring;
}

// Atomically moves a record of generation `generation` from `from` to `to`.
// acq_rel: the winner of a transition sees everything the previous owner
// wrote to the record (payload, attempt) and publishes its own writes.
inline bool transition(TaskRecord& r, std::uint32_t generation, RecordState from, RecordState to) noexcept {
  std::uint64_t expected = state_word(generation, from);
  return r.state_word.compare_exchange_strong(expected, state_word(generation, to),
                                              std::memory_order_acq_rel, std::memory_order_relaxed);
}

inline std::uint32_t generation_of(const TaskRecord& r) noexcept {
  // relaxed: the generation only changes while the record is free, i.e.
  // while no thread that legitimately holds it is reading.
  return generation_of(r.state_word.load(std::memory_order_relaxed));
}

inline TaskId task_id_of(const TaskRecord& r) noexcept {
  return (static_cast<TaskId>(generation_of(r)) << 32) | r.index;
}

}  // namespace brisk::detail
