// EngineCore's hard time limits: the watchdog's check, which retries an
// overrunning attempt in a fresh record and replaces its stuck worker
// (docs/architecture.md says exactly what a hard limit can and cannot do).
#include "core/engine_core.hpp"

namespace brisk::detail {

void EngineCore::enforce_hard_limits() {
  const std::int64_t now = now_ns();
  outcomes_.expire_deferred(now);  // attempts whose handler deferred (TaskContext::defer)
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& stuck = workers_[i];
    if (stuck.replaced()) continue;
    TaskRecord* overrun = stuck.take_overrun(now);
    if (overrun == nullptr) continue;
    outcomes_.retry_overrun(overrun, now);
    // Restore capacity: a new thread takes over the stuck worker's shard.
    auto fresh = std::make_unique<Worker>(worker_ports(), stuck.index(), stuck.cpu());
    Worker* started = fresh.get();
    if (workers_.add(std::move(fresh))) {
      stuck.mark_replaced();
      started->start();
    }
  }
}

}  // namespace brisk::detail
