// Workflows at start(): batches and links rebuilt from what the log holds
// (wal::RecoveredState), then the batches a crash left complete but not
// done are completed.
#include "workflow/workflows.hpp"

namespace brisk::detail {

void Workflows::restore(const wal::TaskImage& image) {
  const wal::Workflow& w = image.workflow;
  std::lock_guard lock(mutex_);
  auto& slot = batches_[image.id];
  if (!slot) slot = std::make_unique<Batch>();
  Batch& batch = *slot;
  if (w.calls.size() == 2) {  // {on_success, on_complete}, as open_batch logs them
    batch.options.on_success = w.calls[0];
    batch.options.on_complete = w.calls[1];
  }
  batch.options.durability = Durability::durable;
  batch.callbacks_logged = w.which;
  batch.id = image.id;
  batch.durable = true;
  // Before any task runs (relaxed: start() publishes it to the workers).
  batch.word.store(w.sealed ? 1 : 0, std::memory_order_relaxed);
  batch.succeeded.store(w.succeeded, std::memory_order_relaxed);
  batch.dead_lettered.store(w.dead_lettered, std::memory_order_relaxed);
  batch.cancelled.store(w.cancelled, std::memory_order_relaxed);
  // relink() adds the members still pending.
  batch.total.store(w.succeeded + w.dead_lettered + w.cancelled, std::memory_order_relaxed);
}

std::uint32_t Workflows::relink(const wal::TaskImage& task) {
  const wal::Workflow& w = task.workflow;
  Link link;
  // A callback needs no link: it is a task like any other now. A member of
  // a batch that is done (its own completion was not logged in time) runs
  // as a plain task.
  if (w.role == wal::WorkflowRole::member) {
    std::lock_guard lock(mutex_);
    if (const auto it = batches_.find(w.batch); it != batches_.end() && join(*it->second)) {
      link.batch = w.batch;
      link.state = it->second.get();
      link.place.role = wal::WorkflowRole::member;
      link.place.batch = w.batch;
    }
  }
  link.place.calls = w.calls;
  if (link.batch == 0 && link.place.calls.empty()) return 0;
  link.priority = task.priority;
  link.durability = Durability::durable;
  link.durable_id = task.id;
  std::lock_guard lock(mutex_);
  return new_link(std::move(link));
}

void Workflows::resume() {
  std::vector<BatchId> ready;
  {
    std::lock_guard lock(mutex_);
    // Sealed with nothing pending: claimed here, or by its last member
    // if that one finished meanwhile (one CAS decides).
    for (const auto& [id, batch] : batches_) {
      if (batch->durable && claim_completion(*batch)) ready.push_back(id);
    }
  }
  for (const BatchId id : ready) finish_batch(id);
}

}  // namespace brisk::detail
