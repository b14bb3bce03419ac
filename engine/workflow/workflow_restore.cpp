// Workflows at start(): batches and links rebuilt from what the log holds
// (wal::RecoveredState), then the batches a crash left complete but not
// done are completed.
#include "workflow/workflows.hpp"

namespace brisk::detail {

void Workflows::restore(const wal::TaskImage& image) {
  const wal::Workflow& w = image.workflow;
  std::lock_guard lock(mutex_);
  Batch& batch = batches_[image.id];
  if (w.calls.size() == 2) {  // {on_success, on_complete}, as open_batch logs them
    batch.options.on_success = w.calls[0];
    batch.options.on_complete = w.calls[1];
  }
  batch.options.durability = Durability::durable;
  batch.callbacks_logged = w.which;
  BatchInfo& info = batch.info;
  info.id = image.id;
  info.durable = true;
  info.sealed = w.sealed;
  info.succeeded = w.succeeded;
  info.dead_lettered = w.dead_lettered;
  info.cancelled = w.cancelled;
  info.total = w.succeeded + w.dead_lettered + w.cancelled;  // relink() adds the members still pending
}

std::uint32_t Workflows::relink(const wal::TaskImage& task) {
  const wal::Workflow& w = task.workflow;
  Link link;
  // A callback needs no link: it is a task like any other now. A member of
  // a batch that is done (its own completion was not logged in time) runs
  // as a plain task.
  if (w.role == wal::WorkflowRole::member) {
    std::lock_guard lock(mutex_);
    if (const auto it = batches_.find(w.batch); it != batches_.end()) {
      ++it->second.info.total;
      ++it->second.info.pending;
      link.batch = w.batch;
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
    for (const auto& [id, batch] : batches_) {
      if (batch.info.durable && batch.info.sealed && batch.info.pending == 0 && !batch.info.complete) {
        ready.push_back(id);
      }
    }
  }
  for (const BatchId id : ready) {
    std::vector<Followup> followups;
    BatchId durable_batch = 0;
    {
      std::lock_guard lock(mutex_);
      // Its last member may have finished meanwhile, completing it.
      const auto it = batches_.find(id);
      if (it == batches_.end() || it->second.info.pending != 0) continue;
      durable_batch = complete(id, &followups);
    }
    done(durable_batch, run(std::move(followups)));
  }
}

}  // namespace brisk::detail
