#include "admission/submit_checks.hpp"

#include <limits>

namespace brisk::detail {

// The reason for an oversized durable task quotes the limit as text.
static_assert(wal::kMaxPayloadSize == 64u << 20, "update the 'record limit' reason below");

SubmitPlan check_submission(const EngineConfig& config, const Clock& clock, const TaskTypeEntry* type,
                            const DurableLog* log, std::string_view payload, const TaskOptions& options) {
  const auto refused = [](std::string_view reason) {
    SubmitPlan plan;
    plan.refusal = reason;
    return plan;
  };
  if (type == nullptr) return refused("unknown task name");
  if (options.priority >= config.priority_lanes) {
    return refused("priority out of range (see EngineConfig::priority_lanes)");
  }
  if (payload.size() > config.max_payload_bytes) {
    return refused("payload larger than EngineConfig::max_payload_bytes");
  }
  if (options.delay.count() < 0) return refused("negative delay");
  if (options.durability != Durability::engine_default && options.durability != Durability::memory &&
      options.durability != Durability::durable) {
    return refused("TaskOptions::durability is not engine_default, memory or durable");
  }
  const bool has_log = !config.durability.wal_dir.empty();
  const bool durable = options.durability == Durability::durable ||
                       (options.durability == Durability::engine_default && has_log &&
                        config.durability.durable_by_default);
  // The clock is read only as precisely as something needs it: a due time
  // (delay, run_at) needs now; a key's retention and the log's record of
  // when a task was accepted are fine a few ms behind (the coarse clock is
  // a few ns to read, the precise one ~20 ns: ~9% of a memory submit); an
  // immediate memory task without a key needs no time at all.
  const std::int64_t submit_ns = options.run_at_ns || options.delay.count() != 0 ? clock.now_ns()
                                 : !options.idempotency_key.empty() || durable  ? clock.now_coarse_ns()
                                                                                : 0;
  // now + delay must fit in int64: a signed overflow is undefined behaviour
  // and in practice wraps to the past, so the task would run at once.
  // Refused rather than saturated: a silently changed deadline is no answer.
  if (!options.run_at_ns && submit_ns > 0 &&
      options.delay.count() > std::numeric_limits<std::int64_t>::max() - submit_ns) {
    return refused("delay too large: now + delay overflows int64 nanoseconds");
  }
  const std::int64_t due = options.run_at_ns ? *options.run_at_ns : submit_ns + options.delay.count();
  if (options.idempotency_key.size() > 1024) {
    return refused("idempotency key longer than 1024 bytes");
  }
  if (durable && !has_log) {
    return refused("a durable submission needs EngineConfig::durability.wal_dir");
  }
  if (has_log && log == nullptr && !options.idempotency_key.empty()) {
    // Even a memory task: the log's keys are recovered by start(), so until
    // then the key cannot be answered truly (it may be a duplicate).
    return refused(
        "an idempotency key before start(): the keys the write-ahead log holds are recovered by start(); "
        "submit keyed tasks after start()");
  }
  if (durable && log == nullptr) {
    // Not accepted now and logged at start(): start() first recovers the
    // log's idempotency keys, so until then a key cannot be answered truly.
    return refused(
        "a durable submission before start(): the write-ahead log is opened (and its idempotency "
        "keys recovered) by start(); submit after start(), or with TaskOptions::durability = "
        "Durability::memory");
  }
  if (durable) {
    // Checked here, not left to the log's append: a refused append looks
    // like a failed log (ticket 0), and this is the caller's input, not the disk.
    if (!DurableLog::fits_in_a_record(type->name, payload, options.idempotency_key)) {
      return refused(
          "durable task larger than the write-ahead log's 64 MiB record limit "
          "(payload, task name and idempotency key together)");
    }
    // The log stores wall-clock times (engine time + an offset): that sum
    // must not overflow either.
    if (due > submit_ns && !log->fits_wall_clock(due)) {
      return refused(
          "delay too large (or run_at_ns too late) to log: the deadline as wall-clock time "
          "overflows int64 nanoseconds");
    }
  }
  SubmitPlan plan;
  plan.durable = durable;
  plan.submit_ns = submit_ns;
  plan.due_ns = due;
  return plan;
}

}  // namespace brisk::detail
