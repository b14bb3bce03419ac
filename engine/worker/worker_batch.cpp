#include "worker/worker_batch.hpp"

namespace brisk::detail {

void WorkerBatch::log_completion(std::uint64_t durable_id) {
  if (completions_.size() == completions_.capacity()) flush_completions();
  if (completions_.empty()) completions_since_ = ticks_.now();
  completions_.push_back(durable_id);
}

void WorkerBatch::flush_completions() {
  if (completions_.empty()) return;
  finished_.log_completions(completions_);
  completions_.clear();
}

}  // namespace brisk::detail
