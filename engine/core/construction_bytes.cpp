#include "core/construction_bytes.hpp"

#include "core/engine_core.hpp"

namespace brisk::detail {

ConstructionBytes construction_bytes(const EngineConfig& c) noexcept {
  const std::uint64_t workers = c.workers;
  ConstructionBytes bytes;
  bytes.rings = workers * c.priority_lanes * JobRing::allocated_bytes(c.ring_capacity);
  if (c.task_overflow_per_worker != 0) bytes.overflows = workers * JobRing::allocated_bytes(c.task_overflow_per_worker);
  if (c.observability.trace_events_per_worker != 0) {
    bytes.traces = workers * trace::TraceBuffer::allocated_bytes(c.observability.trace_events_per_worker);
  }
  // Per worker: its Worker (batch buffers sized by steal_batch), its Shard
  // and that shard's ring objects; plus the worker set's slots, which leave
  // room for replacements, and the task table's index.
  const std::uint64_t per_worker = sizeof(Worker) + c.steal_batch * (sizeof(Job) + sizeof(std::uint64_t)) +
                                   sizeof(Shard) + c.priority_lanes * (sizeof(JobRing) + sizeof(std::unique_ptr<JobRing>));
  bytes.rest = workers * per_worker +
               (workers + EngineCore::kMaxReplacementWorkers) * sizeof(std::unique_ptr<Worker>) +
               TaskTable::allocated_bytes(c.max_named_tasks);
  return bytes;
}

}  // namespace brisk::detail
