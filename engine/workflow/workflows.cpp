#include "workflow/workflows.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace brisk::detail {

namespace {

std::string summary_line(const BatchInfo& b) {
  char line[160];
  std::snprintf(line, sizeof line, "brisk-batch id=%llu total=%llu succeeded=%llu dead_lettered=%llu cancelled=%llu\n",
                static_cast<unsigned long long>(b.id), static_cast<unsigned long long>(b.total),
                static_cast<unsigned long long>(b.succeeded), static_cast<unsigned long long>(b.dead_lettered),
                static_cast<unsigned long long>(b.cancelled));
  return line;
}

}  // namespace

BatchId Workflows::open_batch(BatchOptions options) {
  if (!durable(options.durability)) {
    std::lock_guard lock(mutex_);
    const BatchId id = next_memory_batch_++;
    auto& batch = batches_[id] = std::make_unique<Batch>();
    batch->options = std::move(options);
    batch->id = id;
    return id;
  }
  if (!log_configured_) throw std::invalid_argument("a durable batch needs EngineConfig::durability.wal_dir");
  if (log_ == nullptr) {
    throw std::invalid_argument(
        "a durable batch before start(): the write-ahead log is opened by start(); open it after start(), or "
        "with BatchOptions::durability = memory");
  }
  wal::Workflow place;
  place.role = wal::WorkflowRole::batch;
  place.calls = {options.on_success, options.on_complete};
  if (!DurableLog::fits_in_a_record(place)) {
    throw std::invalid_argument("batch callbacks larger than the write-ahead log's 64 MiB record limit");
  }
  std::lock_guard lock(mutex_);  // before the id is known: a member cannot come first
  BatchId id = 0;
  if (log_->batch_opened(place, &id) == 0) return 0;
  auto& batch = batches_[id] = std::make_unique<Batch>();
  batch->options = std::move(options);
  batch->id = id;
  batch->durable = true;
  return id;
}

bool Workflows::seal_batch(BatchId id) {
  std::vector<Followup> followups;
  std::uint64_t ticket = 0;
  BatchId durable_batch = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = batches_.find(id);
    if (it == batches_.end() || (it->second->word.load(std::memory_order_relaxed) & 1) != 0) return false;
    Batch& batch = *it->second;
    if (batch.durable) {
      wal::Workflow place;
      place.role = wal::WorkflowRole::batch;
      place.calls = {batch.options.on_success, batch.options.on_complete};
      place.sealed = true;
      ticket = log_->batch_sealed(id, place);
      if (ticket == 0) return false;  // the log has failed: not sealed
    }
    // Only seal sets the bit, under the mutex: nothing sealed it meanwhile.
    if (seal(batch)) durable_batch = complete(id, &followups);
  }
  // As the fsync policy promises, like every durable answer.
  if (ticket != 0 && !log_->wait(ticket)) return false;
  done(durable_batch, run(std::move(followups)));
  return true;
}

std::optional<BatchInfo> Workflows::batch(BatchId id) const {
  std::lock_guard lock(mutex_);
  const auto it = batches_.find(id);
  if (it == batches_.end()) return std::nullopt;
  return it->second->info();
}

BatchInfo Workflows::Batch::info() const {
  BatchInfo b;
  b.id = id;
  b.durable = durable;
  // acquire: the counts of the members whose decrement it reads.
  const std::uint64_t w = word.load(std::memory_order_acquire);
  b.complete = w == kCompleted;
  b.sealed = b.complete || (w & 1) != 0;
  b.pending = b.complete ? 0 : w / 2;
  b.total = total.load(std::memory_order_relaxed);
  b.succeeded = succeeded.load(std::memory_order_relaxed);
  b.dead_lettered = dead_lettered.load(std::memory_order_relaxed);
  b.cancelled = cancelled.load(std::memory_order_relaxed);
  return b;
}

std::uint64_t Workflows::open_batches() const {
  std::lock_guard lock(mutex_);
  return batches_.size();
}

std::uint32_t Workflows::new_link(Link link) {
  // acquire: the pusher's writes to the link (its reset, next_free).
  std::uint32_t index = free_head_.index.load(std::memory_order_acquire);
  while (index != 0 &&
         !free_head_.index.compare_exchange_weak(index, at(index).next_free, std::memory_order_acquire,
                                                 std::memory_order_acquire)) {
  }
  if (index == 0) {
    if (links_used_ == kMaxBlocks * kBlockSize) throw std::length_error("more than 16M tasks in workflows at once");
    index = links_used_++;
    auto& block = blocks_[index >> kBlockBits];
    if (!block) block = std::make_unique<Link[]>(kBlockSize);
  }
  at(index) = std::move(link);
  return index;
}

void Workflows::free_link(std::uint32_t index) noexcept {
  Link& link = at(index);
  link = Link{};
  std::uint32_t head = free_head_.index.load(std::memory_order_relaxed);
  do {
    link.next_free = head;
    // release: the popper sees the reset link and its next_free.
  } while (
      !free_head_.index.compare_exchange_weak(head, index, std::memory_order_release, std::memory_order_relaxed));
}

bool Workflows::join(Batch& batch) noexcept {
  std::uint64_t w = batch.word.load(std::memory_order_relaxed);
  do {
    if (w == kCompleted) return false;
  } while (!batch.word.compare_exchange_weak(w, w + 2, std::memory_order_acq_rel, std::memory_order_relaxed));
  batch.total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Workflows::leave(Batch& batch, std::optional<TaskState> state) noexcept {
  if (!state) {
    batch.total.fetch_sub(1, std::memory_order_relaxed);
  } else if (*state == TaskState::succeeded) {
    batch.succeeded.fetch_add(1, std::memory_order_relaxed);
  } else if (*state == TaskState::cancelled) {
    batch.cancelled.fetch_add(1, std::memory_order_relaxed);
  } else {
    batch.dead_lettered.fetch_add(1, std::memory_order_relaxed);
  }
  // One CAS leaves and, for the last member of a sealed batch, claims the
  // completion: a separate claim would touch the batch after the leave,
  // when a member that joined meanwhile may have completed and freed it.
  // acq_rel: releases the count above to whoever claims the completion,
  // and the claimer acquires every member's.
  std::uint64_t w = batch.word.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    next = w == 3 ? kCompleted : w - 2;
  } while (!batch.word.compare_exchange_weak(w, next, std::memory_order_acq_rel, std::memory_order_relaxed));
  return next == kCompleted;
}

bool Workflows::seal(Batch& batch) noexcept {
  // Sealing one with nothing pending claims its completion in the same CAS.
  std::uint64_t w = batch.word.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    next = w == 0 ? kCompleted : w | 1;
  } while (!batch.word.compare_exchange_weak(w, next, std::memory_order_acq_rel, std::memory_order_relaxed));
  return next == kCompleted;
}

bool Workflows::claim_completion(Batch& batch) noexcept {
  // A restored batch, sealed with none pending (1).
  std::uint64_t sealed_idle = 1;
  return batch.word.compare_exchange_strong(sealed_idle, kCompleted, std::memory_order_acq_rel,
                                            std::memory_order_relaxed);
}

BatchId Workflows::finish_batch(BatchId id) {
  std::vector<Followup> followups;
  BatchId durable_batch = 0;
  {
    std::lock_guard lock(mutex_);
    durable_batch = complete(id, &followups);
  }
  done(durable_batch, run(std::move(followups)));
  return durable_batch;
}

std::optional<std::uint32_t> Workflows::link(BatchId batch, std::vector<TaskCall> rest, const TaskOptions& options,
                                             std::string_view* why) {
  std::lock_guard lock(mutex_);
  Link link;
  if (batch != 0) {
    const auto it = batches_.find(batch);
    if (it == batches_.end()) {
      *why = "unknown batch (never opened, or complete: its callbacks were submitted)";
      return std::nullopt;
    }
    Batch& state = *it->second;
    if (state.durable && !durable(options.durability)) {
      *why = "a durable batch takes durable tasks only: a restart would forget a memory task, and the batch "
             "would wait for it for ever";
      return std::nullopt;
    }
    if (!join(state)) {
      *why = "unknown batch (never opened, or complete: its callbacks were submitted)";
      return std::nullopt;
    }
    link.batch = batch;
    link.state = &state;
    if (state.durable) {
      link.place.role = wal::WorkflowRole::member;
      link.place.batch = batch;
    }
  }
  link.place.calls = std::move(rest);
  link.priority = options.priority;
  link.durability = options.durability;
  return new_link(std::move(link));
}

std::uint64_t Workflows::log_submit(std::uint32_t index, TaskRecord& record, std::string_view type_name,
                                    std::string_view key, std::uint64_t same_stream_as) {
  std::lock_guard lock(mutex_);  // the place's calls stay put while logged
  Link& link = at(index);
  const std::uint64_t ticket =
      log_->submitted(record, type_name, key, same_stream_as, link.place.present() ? &link.place : nullptr);
  link.durable_id = record.durable_id;
  return ticket;
}

void Workflows::unlink(std::uint32_t index) {
  Link& link = at(index);
  const BatchId batch = link.batch;
  const bool last = link.state != nullptr && leave(*link.state, std::nullopt);
  free_link(index);
  if (last) finish_batch(batch);
}

// The link's own task asks: it holds the link, no lock needed.
BatchId Workflows::batch_of(std::uint32_t index) const { return at(index).batch; }

std::string Workflows::stopped_chain(std::uint32_t index) const {
  const std::vector<TaskCall>& rest = at(index).place.calls;
  if (rest.empty()) return {};
  std::string out = " (chain stopped; not run:";
  for (std::size_t k = 0; k < rest.size(); ++k) out += (k == 0 ? " " : ", ") + rest[k].task;
  return out + ")";
}

BatchId Workflows::complete(BatchId id, std::vector<Followup>* out) {
  const auto it = batches_.find(id);
  Batch& batch = *it->second;
  const BatchInfo info = batch.info();
  const std::string line = summary_line(info);
  const bool all_succeeded = info.succeeded == info.total;
  const bool is_durable = batch.durable;
  // Keyed: a callback is submitted once, also if this runs twice; one a
  // restored batch had already submitted is not submitted again.
  const auto callback = [&](const TaskCall& call, std::uint8_t which, std::string_view name) {
    if (call.task.empty() || (batch.callbacks_logged & which) != 0) return;
    Followup f;
    f.callback = true;
    f.call.task = call.task;
    f.call.payload = line + call.payload;
    f.options.idempotency_key = "brisk.batch/" + std::to_string(id) + "/" + std::string(name);
    // A memory batch's callbacks are memory tasks: their keys are not
    // logged, so a later life's batch with the same id is not refused.
    f.options.durability = is_durable ? Durability::durable : Durability::memory;
    if (is_durable) {
      f.place.role = wal::WorkflowRole::callback;
      f.place.batch = id;
      f.place.which = which;
    }
    out->push_back(std::move(f));
  };
  if (all_succeeded) callback(batch.options.on_success, wal::Workflow::kOnSuccess, "success");
  callback(batch.options.on_complete, wal::Workflow::kOnComplete, "complete");
  batches_.erase(it);
  return is_durable ? id : 0;
}

void Workflows::finished(std::uint32_t index, TaskState state, std::string&& result) {
  // No lock: the link is this task's; its batch's counts are atomics.
  std::vector<Followup> followups;
  Link& link = at(index);
  const BatchId batch = link.batch;
  const bool last = link.state != nullptr && leave(*link.state, state);
  {
    std::vector<TaskCall>& rest = link.place.calls;
    if (!rest.empty() && state == TaskState::succeeded) {
      // The next step runs with this step's result; the steps after it ride along.
      Followup next;
      next.call.task = std::move(rest.front().task);
      next.call.payload = std::move(result);
      next.options.priority = link.priority;
      next.options.durability = link.durability;
      // Keyed by this step's durable id: if this step runs again after a
      // crash (its completion was not logged), the next is not submitted twice.
      if (link.durable_id != 0) next.options.idempotency_key = "brisk.chain/" + std::to_string(link.durable_id);
      next.place.calls.assign(std::make_move_iterator(rest.begin() + 1), std::make_move_iterator(rest.end()));
      followups.push_back(std::move(next));
    }
  }
  free_link(index);
  if (last) finish_batch(batch);
  if (!followups.empty()) run(std::move(followups));
}

bool Workflows::run(std::vector<Followup>&& followups) {
  bool all = true;
  for (Followup& f : followups) {
    // Due now, through the timer: full rings delay it by a tick, never refuse it.
    f.options.delay = std::chrono::nanoseconds(1);
    std::uint32_t next_link = 0;
    if (f.place.present()) {
      std::lock_guard lock(mutex_);
      Link link;
      link.place = std::move(f.place);
      link.priority = f.options.priority;
      link.durability = f.options.durability;
      next_link = new_link(std::move(link));
    }
    const SubmitResult r = submit_(f.call, f.options, next_link);
    if (r.accepted() || r.status == SubmitStatus::duplicate) {
      if (f.callback && r.accepted()) callbacks_submitted_.fetch_add(1, std::memory_order_relaxed);
      if (!r.accepted() && next_link != 0) unlink(next_link);
      continue;
    }
    all = false;
    if (next_link != 0) unlink(next_link);
    park_(f.call, "workflow step could not be submitted: " + std::string(r.reason));
  }
  return all;
}

void Workflows::done(BatchId durable_batch, bool all_submitted) {
  // Behind its callbacks' submit records (a completion is laid out after
  // them): a restart that finds it does not submit them again. A callback
  // that was refused is not behind it: the next start tries again.
  if (durable_batch != 0 && all_submitted && log_ != nullptr) log_->batch_done(durable_batch);
}

}  // namespace brisk::detail

namespace brisk {

std::optional<BatchSummary> BatchSummary::parse(std::string_view payload) {
  const std::size_t end = payload.find('\n');
  if (end == std::string_view::npos) return std::nullopt;
  unsigned long long id, total, succeeded, dead, cancelled;
  const std::string line(payload.substr(0, end));
  if (std::sscanf(line.c_str(), "brisk-batch id=%llu total=%llu succeeded=%llu dead_lettered=%llu cancelled=%llu",
                  &id, &total, &succeeded, &dead, &cancelled) != 5) {
    return std::nullopt;
  }
  BatchSummary s;
  s.info.id = id;
  s.info.sealed = s.info.complete = true;
  s.info.total = total;
  s.info.succeeded = succeeded;
  s.info.dead_lettered = dead;
  s.info.cancelled = cancelled;
  s.payload = payload.substr(end + 1);
  return s;
}

}  // namespace brisk
