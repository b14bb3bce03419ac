#include "workflow/workflows.hpp"

#include <chrono>
#include <cstdio>

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
  std::lock_guard lock(mutex_);
  const BatchId id = next_batch_++;
  Batch& batch = batches_[id];
  batch.options = std::move(options);
  batch.info.id = id;
  return id;
}

bool Workflows::seal_batch(BatchId id) {
  std::vector<Followup> followups;
  {
    std::lock_guard lock(mutex_);
    const auto it = batches_.find(id);
    if (it == batches_.end() || it->second.info.sealed) return false;
    it->second.info.sealed = true;
    if (it->second.info.pending == 0) complete(id, &followups);
  }
  run(std::move(followups));
  return true;
}

std::optional<BatchInfo> Workflows::batch(BatchId id) const {
  std::lock_guard lock(mutex_);
  const auto it = batches_.find(id);
  if (it == batches_.end()) return std::nullopt;
  return it->second.info;
}

std::optional<std::uint32_t> Workflows::link(BatchId batch, std::vector<TaskCall> rest, const TaskOptions& options,
                                             std::string_view* why) {
  std::lock_guard lock(mutex_);
  if (batch != 0) {
    const auto it = batches_.find(batch);
    if (it == batches_.end()) {
      *why = "unknown batch (never opened, or complete: its callbacks were submitted)";
      return std::nullopt;
    }
    ++it->second.info.total;
    ++it->second.info.pending;
  }
  std::uint32_t index;
  if (!free_links_.empty()) {
    index = free_links_.back();
    free_links_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(links_.size());
    links_.emplace_back();
  }
  Link& link = links_[index];
  link.batch = batch;
  link.rest = std::move(rest);
  link.priority = options.priority;
  link.durability = options.durability;
  return index;
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

void Workflows::complete(BatchId id, std::vector<Followup>* out) {
  const auto it = batches_.find(id);
  Batch& batch = it->second;
  batch.info.complete = true;
  const std::string line = summary_line(batch.info);
  const bool all_succeeded = batch.info.succeeded == batch.info.total;
  // Keyed: a callback is submitted once, also if this runs twice.
  const auto callback = [&](const TaskCall& call, std::string_view which) {
    if (call.task.empty()) return;
    Followup f;
    f.call.task = call.task;
    f.call.payload = line + call.payload;
    f.options.idempotency_key = "brisk.batch/" + std::to_string(id) + "/" + std::string(which);
    out->push_back(std::move(f));
  };
  if (all_succeeded) callback(batch.options.on_success, "success");
  callback(batch.options.on_complete, "complete");
  batches_.erase(it);
}

void Workflows::finished(std::uint32_t index, TaskState state, std::string&& result) {
  std::vector<Followup> followups;
  {
    std::lock_guard lock(mutex_);
    Link& link = links_[index];
    if (link.batch != 0) {
      const auto it = batches_.find(link.batch);
      if (it != batches_.end()) {
        count_finish(it->second, state);
        if (it->second.info.sealed && it->second.info.pending == 0) complete(link.batch, &followups);
      }
    }
    if (!link.rest.empty() && state == TaskState::succeeded) {
      // The next step runs with this step's result; the steps after it ride along.
      Followup next;
      next.call.task = std::move(link.rest.front().task);
      next.call.payload = std::move(result);
      next.options.priority = link.priority;
      next.options.durability = link.durability;
      next.rest.assign(std::make_move_iterator(link.rest.begin() + 1), std::make_move_iterator(link.rest.end()));
      followups.push_back(std::move(next));
    }
    link = Link{};
    free_links_.push_back(index);
  }
  run(std::move(followups));
}

void Workflows::run(std::vector<Followup>&& followups) {
  for (Followup& f : followups) {
    // Due now, through the timer: full rings delay it by a tick, never refuse it.
    f.options.delay = std::chrono::nanoseconds(1);
    std::uint32_t next_link = 0;
    if (!f.rest.empty()) {
      std::string_view why;
      next_link = *link(0, std::move(f.rest), f.options, &why);
    }
    const SubmitResult r = submit_(f.call, f.options, next_link);
    if (r.accepted() || r.status == SubmitStatus::duplicate) continue;
    if (next_link != 0) unlink(next_link);
    park_(f.call, "workflow step could not be submitted: " + std::string(r.reason));
  }
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
