// The memory an engine allocates in its constructor, by the configuration
// fields that size it: validated_config() compares it with the machine's
// memory before any of it is allocated, so that a configuration too large
// to fit is a ConfigError naming those fields.
#pragma once

#include <cstdint>

#include "brisk/config.hpp"

namespace brisk::detail {

struct ConstructionBytes {
  std::uint64_t rings = 0;   // workers * priority_lanes * ring_capacity slots
  std::uint64_t overflows = 0;  // workers * task_overflow_per_worker slots
  std::uint64_t traces = 0;  // workers * observability.trace_events_per_worker events
  std::uint64_t rest = 0;    // workers, shards, the task table's index (max_named_tasks)

  std::uint64_t total() const noexcept { return rings + overflows + traces + rest; }
};

// For a configuration whose fields are each in range (no overflow then).
// What is allocated only as it is used (task records, payloads, keys, dead
// letters) is not counted: max_named_tasks and the other bounds cap it.
ConstructionBytes construction_bytes(const EngineConfig& config) noexcept;

}  // namespace brisk::detail
