// EngineReadout: the engine's read side. Stats, histograms, health and the
// profiler's snapshot, gathered from the counters the hot paths write;
// nothing here is on those paths. It is handed what it reads (ReadoutSources)
// and owns only the health monitor's smoothing state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "brisk/clock.hpp"
#include "brisk/config.hpp"
#include "brisk/stats.hpp"
#include "admission/admission.hpp"
#include "delay/delay_scheduler.hpp"
#include "dlq/dead_letter_queue.hpp"
#include "durability/durable_log.hpp"
#include "flow/credit_pool.hpp"
#include "metrics/health.hpp"
#include "observe/prometheus_export.hpp"
#include "registry/task_registry.hpp"
#include "shard/shard_set.hpp"
#include "status/finished_tasks.hpp"
#include "task/task_table.hpp"
#include "trace/trace_switch.hpp"
#include "worker/worker_set.hpp"
#include "workflow/workflows.hpp"

namespace brisk::detail {

// What the read side reads. References to the engine's parts; the log and
// the start time are read through the engine's own fields, which start()
// sets after the readout is built.
struct ReadoutSources {
  const EngineConfig& config;
  const Clock& clock;
  const ShardSet& shards;
  const WorkerSet& workers;
  const TaskRegistry& registry;
  const TaskTable& tasks;
  const Admission& admission;
  const CreditPool& credits;
  const DelayScheduler& delays;
  const DeadLetterQueue& dead_letters;
  const FinishedTasks& finished;
  const Workflows& workflows;
  const trace::TraceSwitch& trace_switch;
  const std::unique_ptr<DurableLog>& log;  // null without durability
  const std::int64_t& started_ns;          // 0 until start()
  // Producers' refusals and waits (relaxed counters).
  const std::atomic<std::uint64_t>& rejected_backpressure;
  const std::atomic<std::uint64_t>& producer_blocked_ns;
};

class EngineReadout {
 public:
  explicit EngineReadout(const ReadoutSources& sources)
      : in_(sources), health_monitor_(sources.config.observability.health) {}

  EngineStats stats() const;
  // Queue wait and run time, merged over the workers.
  EngineHistograms histograms() const;
  // The engine's Prometheus text (without the extra sources the engine adds).
  std::string prometheus_text() const { return render_prometheus(stats(), histograms()); }
  // A health verdict from the stats now and the monitor's smoothed history.
  HealthReport health();
  // The profiler's one consistent JSON document (observe/snapshot_json.hpp).
  std::string snapshot_json() const;

 private:
  const ReadoutSources in_;
  std::mutex health_mutex_;  // the monitor's history has one writer at a time
  metrics::HealthMonitor health_monitor_;
};

}  // namespace brisk::detail
