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
    Batch& batch = batches_[id];
    batch.options = std::move(options);
    batch.info.id = id;
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
  Batch& batch = batches_[id];
  batch.options = std::move(options);
  batch.info.id = id;
  batch.info.durable = true;
  return id;
}

bool Workflows::seal_batch(BatchId id) {
  std::vector<Followup> followups;
  std::uint64_t ticket = 0;
  BatchId durable_batch = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = batches_.find(id);
    if (it == batches_.end() || it->second.info.sealed) return false;
    Batch& batch = it->second;
    if (batch.info.durable) {
      wal::Workflow place;
      place.role = wal::WorkflowRole::batch;
      place.calls = {batch.options.on_success, batch.options.on_complete};
      place.sealed = true;
      ticket = log_->batch_sealed(id, place);
      if (ticket == 0) return false;  // the log has failed: not sealed
    }
    batch.info.sealed = true;
    if (batch.info.pending == 0) durable_batch = complete(id, &followups);
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
  return it->second.info;
}

std::uint64_t Workflows::open_batches() const {
  std::lock_guard lock(mutex_);
  return batches_.size();
}

std::uint32_t Workflows::new_link(Link link) {
  std::uint32_t index;
  if (!free_links_.empty()) {
    index = free_links_.back();
    free_links_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(links_.size());
    links_.emplace_back();
  }
  links_[index] = std::move(link);
  return index;
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
    if (it->second.info.durable && !durable(options.durability)) {
      *why = "a durable batch takes durable tasks only: a restart would forget a memory task, and the batch "
             "would wait for it for ever";
      return std::nullopt;
    }
    ++it->second.info.total;
    ++it->second.info.pending;
    link.batch = batch;
    if (it->second.info.durable) {
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
  Link& link = links_[index];
  const std::uint64_t ticket =
      log_->submitted(record, type_name, key, same_stream_as, link.place.present() ? &link.place : nullptr);
  link.durable_id = record.durable_id;
  return ticket;
}

void Workflows::unlink(std::uint32_t index) {
  std::lock_guard lock(mutex_);
  Link& link = links_[index];
  if (link.batch != 0) {
    const auto it = batches_.find(link.batch);
    if (it != batches_.end()) {
      --it->second.info.total;
      --it->second.info.pending;
    }
  }
  link = Link{};
  free_links_.push_back(index);
}

BatchId Workflows::batch_of(std::uint32_t index) const {
  std::lock_guard lock(mutex_);
  return index < links_.size() ? links_[index].batch : 0;
}

std::string Workflows::stopped_chain(std::uint32_t index) const {
  std::lock_guard lock(mutex_);
  const std::vector<TaskCall>& rest = links_[index].place.calls;
  if (rest.empty()) return {};
  std::string out = " (chain stopped; not run:";
  for (std::size_t k = 0; k < rest.size(); ++k) out += (k == 0 ? " " : ", ") + rest[k].task;
  return out + ")";
}

void Workflows::count_finish(Batch& batch, TaskState state) {
  --batch.info.pending;
  if (state == TaskState::succeeded) {
    ++batch.info.succeeded;
  } else if (state == TaskState::cancelled) {
    ++batch.info.cancelled;
  } else {
    ++batch.info.dead_lettered;
  }
}

BatchId Workflows::complete(BatchId id, std::vector<Followup>* out) {
  const auto it = batches_.find(id);
  Batch& batch = it->second;
  batch.info.complete = true;
  const std::string line = summary_line(batch.info);
  const bool all_succeeded = batch.info.succeeded == batch.info.total;
  const bool is_durable = batch.info.durable;
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
  std::vector<Followup> followups;
  BatchId durable_batch = 0;
  {
    std::lock_guard lock(mutex_);
    Link& link = links_[index];
    if (link.batch != 0) {
      const auto it = batches_.find(link.batch);
      if (it != batches_.end()) {
        count_finish(it->second, state);
        if (it->second.info.sealed && it->second.info.pending == 0) durable_batch = complete(link.batch, &followups);
      }
    }
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
    link = Link{};
    free_links_.push_back(index);
  }
  done(durable_batch, run(std::move(followups)));
}

bool Workflows::run(std::vector<Followup>&& followups) {
  bool all = true;
  for (Followup& f : followups) {
    // Due now, through the timer: full rings delay it by a tick, never refuse it.
    f.options.delay = std::chrono::nanoseconds(1);
    std::uint32_t next_link = 0;
    if (f.place.present()) {
      std::lock_guard lock(mutex_);
      next_link = new_link(Link{0, std::move(f.place), f.options.priority, f.options.durability, 0});
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
