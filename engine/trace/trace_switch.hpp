// TraceSwitch: turns the workers' tracing on and off while the engine runs.
//
// The rings (TraceBuffer) are allocated when the engine is constructed, and
// only when observability.trace_events_per_worker > 0; this switch decides
// whether workers write into them. A worker reads on() once per search for
// work (find_work), right after its claim, and keeps the answer for the
// batch it took: a job posted after turn_on() (turn_off()) returned is
// published after the switch changed and claimed with an acquire of its
// slot, so the worker sees the change and traces it (does not). While off,
// tracing costs that load and one predictable branch per batch, and
// nothing on the submit path (post() records no trace event at all: the
// submit is derived from the start event's queue wait).
//
// A session is bounded by a deadline and an event budget. Workers spend the
// budget once per traced batch and switch tracing off when either is
// exhausted; the controller (Engine::stop_trace, or the thread that asked
// for the session) switches it off too. Both bounds are therefore met to
// within one batch per worker: a worker that read on() just before the
// switch went off records the batch it already took.
//
// Orderings:
// * turn_on() writes the deadline and the budget, then on_.store(release);
//   a worker's on_.load(acquire) that sees true therefore sees this
//   session's bounds, never the last one's. (On x86-64 an acquire load is a
//   plain load: the off path costs no more than a relaxed one.)
// * turn_off() is a relaxed store: it publishes nothing; a worker that sees
//   it late records at most the batch it is in. Jobs posted after it are
//   not traced: the post's release of their slot orders it before the claim.
// * budget_ is shared by the workers of a session: fetch_sub (relaxed: a
//   count, it orders no other memory) once per traced batch, never per event.
// * session_ (a mutex) serialises turn_on against another turn_on, so two
//   controllers cannot both start a session; workers never take it.
// * side_ (the side tracks: log writer, refusals) is allocated by the first
//   turn_on and published with a release store before on_'s: a thread whose
//   on() saw true, or whose side() (acquire) saw it, sees it constructed.
//   It is never replaced or freed before the switch is destroyed.
//
// The log writer reads on() once per batch; a producer once per submission,
// after the answer (refusal_hook.hpp): while off, one load and a branch.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <new>

#include "platform/cache_line.hpp"
#include "trace/side_tracks.hpp"

namespace brisk::trace {

class TraceSwitch {
 public:
  enum class Turned : std::uint8_t { on, already_on };

  // Workers: is tracing on? (See the ordering note above.)
  bool on() const noexcept { return on_.load(std::memory_order_acquire); }

  // Workers, after a traced batch of `events` events ending at now_ns:
  // switches tracing off once the session's time or budget is spent.
  void spend(std::uint64_t events, std::int64_t now_ns) noexcept {
    const std::int64_t left = budget_.fetch_sub(static_cast<std::int64_t>(events), std::memory_order_relaxed);
    if (left <= static_cast<std::int64_t>(events) || now_ns >= until_ns_.load(std::memory_order_relaxed)) {
      on_.store(false, std::memory_order_relaxed);
    }
  }

  // Starts a session until until_ns (engine clock) or max_events events (0:
  // no event bound). already_on while another session (or tracing from
  // start) is on: sessions are never queued.
  Turned turn_on(std::int64_t until_ns, std::uint64_t max_events) noexcept {
    std::lock_guard lock(session_);
    if (on_.load(std::memory_order_relaxed)) return Turned::already_on;
    if (!side_owner_) {
      try {
        side_owner_ = std::make_unique<SideTracks>();
        side_.store(side_owner_.get(), std::memory_order_release);
      } catch (const std::bad_alloc&) {
        // Workers' tracks still work; the side tracks are left out.
      }
    }
    constexpr auto kUnbounded = std::numeric_limits<std::int64_t>::max();
    until_ns_.store(until_ns, std::memory_order_relaxed);
    budget_.store(max_events == 0 || max_events > static_cast<std::uint64_t>(kUnbounded)
                      ? kUnbounded
                      : static_cast<std::int64_t>(max_events),
                  std::memory_order_relaxed);
    on_.store(true, std::memory_order_release);
    return Turned::on;
  }

  void turn_off() noexcept { on_.store(false, std::memory_order_relaxed); }

  // The log writer's and producers' tracks: nullptr until tracing was first
  // switched on.
  SideTracks* side() const noexcept { return side_.load(std::memory_order_acquire); }

 private:
  alignas(detail::kCacheLine) std::atomic<bool> on_{false};
  // Written by turn_on only; read by workers while on.
  std::atomic<std::int64_t> until_ns_{0};
  // Written by every traced worker: a line of its own, away from on_.
  alignas(detail::kCacheLine) std::atomic<std::int64_t> budget_{0};
  std::mutex session_;
  std::unique_ptr<SideTracks> side_owner_;  // under session_
  std::atomic<SideTracks*> side_{nullptr};
};

}  // namespace brisk::trace
