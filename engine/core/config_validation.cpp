#include "core/config_validation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/construction_bytes.hpp"
#include "platform/cpu_affinity.hpp"
#include "platform/physical_memory.hpp"
#include "shard/shard.hpp"

namespace brisk::detail {

namespace {

bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

// An enum field may hold any value of its underlying type (a cast, memory
// never initialised); a switch without default makes the compiler name the
// case to add here when a value is added to the enum.
bool is_known(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::always:
    case FsyncPolicy::interval:
    case FsyncPolicy::never: return true;
  }
  return false;
}

bool is_known(RecoveryMode mode) {
  switch (mode) {
    case RecoveryMode::tolerate_corrupted_tail_records:
    case RecoveryMode::absolute_consistency:
    case RecoveryMode::point_in_time:
    case RecoveryMode::skip_any_corrupted_record: return true;
  }
  return false;
}

// "0.5", "nan", "inf": std::to_string would print 0.500000.
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// NaN compares false both ways, so the test is written to fail for it.
// The debug endpoints hand out traces and the configuration: served beyond
// loopback only behind a token, and always within bounds of time and size.
void check_debug_endpoints(const ObservabilityConfig& o) {
  if (!o.debug_endpoints) return;
  if (o.metrics_port < 0) throw ConfigError("observability.debug_endpoints needs the metrics server (metrics_port >= 0)");
  const bool loopback = o.metrics_host == "127.0.0.1" || o.metrics_host == "::1" || o.metrics_host == "localhost";
  if (!loopback && o.debug_token.empty()) {
    throw ConfigError("observability.debug_token is required when debug_endpoints are served beyond loopback (metrics_host " +
                      o.metrics_host + ")");
  }
  if (o.max_trace_seconds < 1 || o.max_trace_seconds > 3600) {
    throw ConfigError("observability.max_trace_seconds must be in 1..3600");
  }
  if (o.max_trace_bytes < (std::size_t{1} << 20)) throw ConfigError("observability.max_trace_bytes must be >= 1 MiB");
}

void check_fraction(double value, const char* field, const char* meaning) {
  if (!(value >= 0.0 && value <= 1.0)) {
    throw ConfigError(std::string("observability.health.") + field + " must be in 0..1 (" + meaning + "; got " +
                      number(value) + ")");
  }
}

// Refuses a configuration whose constructor would allocate more than the
// machine has: it could only end in std::bad_alloc or the OOM killer after
// a long wait, with a message that names nothing.
void check_fits_in_memory(const EngineConfig& c) {
  const std::uint64_t available = physical_memory_bytes();
  const ConstructionBytes needed = construction_bytes(c);
  if (available == 0 || needed.total() <= available) return;
  std::string parts = "rings (workers * priority_lanes * ring_capacity = " + std::to_string(c.workers) + " * " +
                      std::to_string(c.priority_lanes) + " * " + std::to_string(c.ring_capacity) + " slots) " +
                      std::to_string(needed.rings) + " bytes";
  if (needed.overflows != 0) {
    parts += ", task overflows (workers * task_overflow_per_worker = " + std::to_string(c.workers) + " * " +
             std::to_string(c.task_overflow_per_worker) + " slots) " + std::to_string(needed.overflows) + " bytes";
  }
  if (needed.traces != 0) {
    parts += ", trace buffers (workers * observability.trace_events_per_worker = " + std::to_string(c.workers) +
             " * " + std::to_string(c.observability.trace_events_per_worker) + " events) " +
             std::to_string(needed.traces) + " bytes";
  }
  parts += ", the rest " + std::to_string(needed.rest) + " bytes";
  throw ConfigError("the configuration needs " + std::to_string(needed.total()) +
                    " bytes of memory at construction, more than this machine's " + std::to_string(available) +
                    " bytes: " + parts);
}

}  // namespace

EngineConfig validated_config(EngineConfig c) {
  if (c.workers == 0) throw ConfigError("workers must be >= 1 (got 0)");
  if (c.workers > 1024) throw ConfigError("workers must be <= 1024 (got " + std::to_string(c.workers) + ")");
  if (!is_power_of_two(c.ring_capacity) || c.ring_capacity < 2) {
    throw ConfigError("ring_capacity must be a power of two >= 2 (got " + std::to_string(c.ring_capacity) + ")");
  }
  if (c.ring_capacity > JobRing::kMaxCapacity) {
    throw ConfigError("ring_capacity must be <= 2^24 (got " + std::to_string(c.ring_capacity) + ")");
  }
  if (c.task_overflow_per_worker != 0 &&
      (!is_power_of_two(c.task_overflow_per_worker) || c.task_overflow_per_worker < 2 ||
       c.task_overflow_per_worker > JobRing::kMaxCapacity)) {
    throw ConfigError("task_overflow_per_worker must be 0 or a power of two in 2..2^24 (got " +
                      std::to_string(c.task_overflow_per_worker) + ")");
  }
  if (c.priority_lanes < 3 || c.priority_lanes > 16) {
    // At least high, normal and low, so the default priority is always valid.
    throw ConfigError("priority_lanes must be in 3..16 (got " + std::to_string(c.priority_lanes) + ")");
  }
  if (c.lane_weights.size() != c.priority_lanes) {
    throw ConfigError("lane_weights must have one weight per priority lane (" +
                      std::to_string(c.priority_lanes) + " lanes, " +
                      std::to_string(c.lane_weights.size()) + " weights)");
  }
  for (unsigned w : c.lane_weights) {
    if (w == 0 || w > 1000) throw ConfigError("lane_weights must be in 1..1000 (got " + std::to_string(w) + ")");
  }
  if (c.steal_batch == 0 || c.steal_batch > 256) {
    throw ConfigError("steal_batch must be in 1..256 (got " + std::to_string(c.steal_batch) + ")");
  }
  if (c.max_named_tasks == 0 || c.max_named_tasks > (1u << 31)) {
    throw ConfigError("max_named_tasks must be in 1..2^31");
  }
  if (c.max_payload_bytes == 0) throw ConfigError("max_payload_bytes must be >= 1");
  const std::int64_t slots = static_cast<std::int64_t>(c.workers) * c.priority_lanes *
                            static_cast<std::int64_t>(c.ring_capacity);
  if (c.credits < 0) throw ConfigError("credits must be >= 0 (0: one per ring slot)");
  if (c.credits == 0) c.credits = slots;
  if (c.credit_chunk == 0) c.credit_chunk = std::min<std::int64_t>(32, c.credits);
  if (c.credit_chunk < 1 || c.credit_chunk > c.credits) {
    throw ConfigError("credit_chunk must be in 1..credits (got " + std::to_string(c.credit_chunk) + ")");
  }
  if (c.idempotency_retention.count() <= 0) throw ConfigError("idempotency_retention must be > 0");
  if (c.max_idempotency_keys == 0) throw ConfigError("max_idempotency_keys must be >= 1");
  if (c.timer_tick < std::chrono::microseconds(1) || c.timer_tick > std::chrono::seconds(1)) {
    throw ConfigError("timer_tick must be in 1us..1s");
  }
  if (c.observability.metrics_port < -1 || c.observability.metrics_port > 65535) {
    throw ConfigError("observability.metrics_port must be -1 (off), 0 (any) or a port number");
  }
  if (c.observability.trace_events_per_worker > (std::size_t{1} << 26)) {
    throw ConfigError("observability.trace_events_per_worker must be <= 2^26");
  }
  check_debug_endpoints(c.observability);
  check_fraction(c.observability.health.max_error_rate, "max_error_rate", "a fraction of completions, 1: off");
  check_fraction(c.observability.health.min_rate_ratio, "min_rate_ratio", "a fraction of the baseline rate, 0: off");
  if (c.dead_letter_capacity == 0) throw ConfigError("dead_letter_capacity must be >= 1");
  if (c.task_status.retention.count() <= 0) throw ConfigError("task_status.retention must be > 0");
  if (c.task_status.max_finished > (std::size_t{1} << 31)) {
    throw ConfigError("task_status.max_finished must be <= 2^31 (got " + std::to_string(c.task_status.max_finished) + ")");
  }
  // Checked with or without a wal_dir: no value outside the enum is ever
  // meant, so one is a bug (a bad cast, a field never set) to report now.
  if (!is_known(c.durability.fsync)) {
    throw ConfigError("durability.fsync must be always, interval or never (got " +
                      std::to_string(static_cast<unsigned>(c.durability.fsync)) + ")");
  }
  if (!is_known(c.durability.recovery_mode)) {
    throw ConfigError(
        "durability.recovery_mode must be tolerate_corrupted_tail_records, absolute_consistency, point_in_time or "
        "skip_any_corrupted_record (got " +
        std::to_string(static_cast<unsigned>(c.durability.recovery_mode)) + ")");
  }
  if (!c.durability.wal_dir.empty()) {
    // Here, not only when start() opens the log (DurableLog keeps its own
    // check): config.hpp promises the constructor validates the whole struct.
    if (c.durability.segment_bytes < 4096) {
      throw ConfigError("durability.segment_bytes must be >= 4096 (got " +
                        std::to_string(c.durability.segment_bytes) + ")");
    }
    if (c.durability.fsync_interval.count() <= 0) {
      throw ConfigError("durability.fsync_interval must be > 0 (got " +
                        std::to_string(c.durability.fsync_interval.count()) + " ms)");
    }
  }
  // Last of the sizes: every field it multiplies is in range by now.
  check_fits_in_memory(c);
  if (c.pin_workers) {
    const std::vector<int> allowed = allowed_cpus();
    if (allowed.empty()) throw ConfigError("pin_workers: cannot read this process's CPU affinity");
    if (c.cpus.empty()) c.cpus = allowed;
    for (int cpu : c.cpus) {
      if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
        throw ConfigError("cpus: CPU " + std::to_string(cpu) + " is not available to this process (allowed: " +
                          std::to_string(allowed.size()) + " CPUs, from " + std::to_string(allowed.front()) +
                          " to " + std::to_string(allowed.back()) + ")");
      }
    }
  }
  return c;
}

}  // namespace brisk::detail
