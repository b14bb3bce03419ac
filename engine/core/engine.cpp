// brisk::Engine: the public handle; every call forwards to EngineCore.
#include "brisk/engine.hpp"

#include "core/engine_core.hpp"
#include "trace/refusal_hook.hpp"

namespace brisk {

std::string_view to_string(SubmitStatus status) noexcept {
  switch (status) {
    case SubmitStatus::accepted: return "accepted";
    case SubmitStatus::rejected_full: return "rejected_full";
    case SubmitStatus::rejected_backpressure: return "rejected_backpressure";
    case SubmitStatus::rejected_shutdown: return "rejected_shutdown";
    case SubmitStatus::invalid: return "invalid";
    case SubmitStatus::duplicate: return "duplicate";
    case SubmitStatus::durability_failed: return "durability_failed";
  }
  return "unknown";
}

std::string_view to_string(TaskState state) noexcept {
  switch (state) {
    case TaskState::unknown: return "unknown";
    case TaskState::queued: return "queued";
    case TaskState::delayed: return "delayed";
    case TaskState::running: return "running";
    case TaskState::retry_waiting: return "retry_waiting";
    case TaskState::succeeded: return "succeeded";
    case TaskState::dead_lettered: return "dead_lettered";
    case TaskState::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(TraceStart s) noexcept {
  switch (s) {
    case TraceStart::started: return "started";
    case TraceStart::already_tracing: return "already_tracing";
    case TraceStart::not_configured: return "not_configured";
    case TraceStart::not_running: return "not_running";
  }
  return "unknown";
}

Engine::Engine(EngineConfig config) : core_(std::make_unique<detail::EngineCore>(std::move(config))) {}
Engine::~Engine() = default;

TaskType Engine::register_handler(std::string name, Handler handler, const TaskTypeOptions& options) {
  return TaskType(core_->register_handler(std::move(name), std::move(handler), options));
}

void Engine::start() { core_->start(); }

SubmitStatus Engine::post_job(detail::Job&& job, Priority priority) {
  return trace::note_refusal(core_->trace_switch(), core_->post_job(std::move(job), priority));
}

BulkResult Engine::post_jobs(detail::Job* jobs, std::size_t count, Priority priority) {
  return trace::note_refusal(core_->trace_switch(), core_->post_jobs(jobs, count, priority), count);
}

SubmitResult Engine::submit(std::string_view task_name, std::string payload, TaskOptions options) {
  if (task_name.empty()) {
    SubmitResult r;
    r.status = SubmitStatus::invalid;
    r.reason = "empty task name";
    return trace::note_refusal(core_->trace_switch(), r);
  }
  return trace::note_refusal(core_->trace_switch(),
                             core_->submit(core_->find_type(task_name), std::move(payload), options));
}

SubmitResult Engine::submit(TaskType type, std::string payload, TaskOptions options) {
  const std::int64_t index = type.valid() ? static_cast<std::int64_t>(type.index()) : -1;
  return trace::note_refusal(core_->trace_switch(), core_->submit(index, std::move(payload), options));
}

SubmitResult Engine::submit(TaskType type, std::string_view payload, TaskOptions options) {
  const std::int64_t index = type.valid() ? static_cast<std::int64_t>(type.index()) : -1;
  return trace::note_refusal(core_->trace_switch(), core_->submit(index, payload, options));
}

SubmitResult Engine::submit(TaskType type, const char* payload, TaskOptions options) {
  if (payload == nullptr) {
    SubmitResult r;
    r.status = SubmitStatus::invalid;
    r.reason = "payload is a null pointer";
    return trace::note_refusal(core_->trace_switch(), r);
  }
  return submit(type, std::string_view(payload), std::move(options));
}

Producer Engine::make_producer() { return Producer(*core_); }

bool Engine::is_durable(const SubmitResult& r) const noexcept { return core_->is_durable(r); }
bool Engine::wait_durable(const SubmitResult& r) const { return core_->wait_durable(r); }
const RecoveryReport& Engine::recovery_report() const noexcept { return core_->recovery_report(); }

bool Engine::cancel(TaskId id) { return core_->cancel(id); }
TaskInfo Engine::status(TaskId id) const { return core_->status(id); }
BatchId Engine::open_batch(BatchOptions options) { return core_->open_batch(std::move(options)); }
bool Engine::seal_batch(BatchId id) { return core_->seal_batch(id); }
std::optional<BatchInfo> Engine::batch(BatchId id) const { return core_->batch(id); }
SubmitResult Engine::submit_chain(std::vector<TaskCall> steps, TaskOptions options) {
  return trace::note_refusal(core_->trace_switch(), core_->submit_chain(std::move(steps), options));
}
TaskInfo Engine::wait(TaskId id, std::chrono::nanoseconds timeout) { return core_->wait(id, timeout); }
void Engine::on_finished(TaskId id, std::function<void(const TaskInfo&)> callback) {
  core_->on_finished(id, std::move(callback));
}
void Engine::drain() { core_->drain(); }
void Engine::shutdown() { core_->shutdown(); }
EngineStats Engine::stats() const { return core_->stats(); }
std::string Engine::prometheus_text() const { return core_->prometheus_text(); }

std::uint64_t Engine::add_metrics_source(std::function<std::string()> source) {
  return core_->metrics_sources().add(std::move(source));
}

void Engine::remove_metrics_source(std::uint64_t id) { core_->metrics_sources().remove(id); }
HealthReport Engine::health() { return core_->health(); }
std::uint16_t Engine::metrics_port() const noexcept { return core_->metrics_port(); }
std::size_t Engine::write_trace(std::ostream& out) { return core_->write_trace(out); }
TraceStart Engine::start_trace(const TraceLimits& limits) { return core_->start_trace(limits); }
void Engine::stop_trace() noexcept { core_->stop_trace(); }
bool Engine::tracing() const noexcept { return core_->tracing(); }
std::string Engine::snapshot_json() const { return core_->snapshot_json(); }
const EngineConfig& Engine::config() const noexcept { return core_->config(); }

std::vector<DeadLetter> Engine::dead_letters() const { return core_->dead_letters(); }
std::size_t Engine::dead_letter_count() const { return core_->dead_letter_count(); }
SubmitResult Engine::replay_dead_letter(TaskId id) { return core_->replay_dead_letter(id); }
std::size_t Engine::purge_dead_letters() { return core_->purge_dead_letters(); }

}  // namespace brisk
