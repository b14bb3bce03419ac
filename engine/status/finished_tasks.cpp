#include "status/finished_tasks.hpp"

#include <algorithm>
#include <chrono>

#include "platform/asymmetric_fence.hpp"

namespace brisk::detail {

FinishedTasks::FinishedTasks(std::size_t capacity, std::int64_t retention_ns, const TickClock& ticks)
    : capacity_(capacity),
      retention_ns_(retention_ns),
      ticks_(ticks),
      ring_(capacity == 0 ? nullptr : std::make_unique<FinishedRing>(capacity)) {
  init_asymmetric_fences();
}

FinishedTasks::~FinishedTasks() = default;

TaskInfo FinishedTasks::info_of(const FinishedFields& task) const {
  TaskInfo info;
  info.id = task.id;
  info.state = task.state;
  info.attempts = task.attempts;
  info.accepted_ns = ticks_.time_of(task.accepted_stamp);
  info.started_ns = task.started_ns;
  info.finished_ns = task.finished_ns;
  return info;
}

std::size_t FinishedTasks::add(FinishedTask&& task, std::atomic<std::uint32_t>& ended) {
  FinishedFields& fields = task.fields;
  fields.has_texts = task.texts != nullptr;
  if (ring_ != nullptr) {
    // The texts go in first, so that a reader who sees has_texts finds them.
    if (task.texts != nullptr) {
      std::lock_guard lock(texts_mutex_);
      texts_.insert_or_assign(fields.id, *task.texts);
    }
    if (const TaskId unreferenced = ring_->add(fields)) {
      std::lock_guard lock(texts_mutex_);
      texts_.erase(unreferenced);
    }
  }
  // After the entry (release: a waiter that reads this finds the entry,
  // unless it was evicted since). Paired with register_pending()'s heavy
  // fence (platform/asymmetric_fence.hpp): either a waiter that registered
  // before this point reads this store when it looks again, or this load
  // sees its registration (or both: then whichever removes it from the map
  // runs it, once). Not the entry itself: it may be evicted before the
  // waiter looks.
  ended.store(static_cast<std::uint32_t>(fields.id >> 32), std::memory_order_release);
  light_fence();
  if (pending_.load(std::memory_order_relaxed) == 0) return 0;
  std::vector<Callback> ready;
  {
    std::lock_guard lock(pending_mutex_);
    auto [first, last] = pending_map_.equal_range(fields.id);
    for (auto it = first; it != last; ++it) ready.push_back(std::move(it->second.callback));
    pending_map_.erase(first, last);
    pending_.fetch_sub(ready.size(), std::memory_order_relaxed);
  }
  if (ready.empty()) return 0;
  TaskInfo info = info_of(fields);
  if (task.texts != nullptr) {
    info.last_error = std::move(task.texts->last_error);
    info.result = std::move(task.texts->result);
  }
  for (Callback& callback : ready) callback(info);
  return ready.size();
}

bool FinishedTasks::find(TaskId id, std::int64_t now_ns, TaskInfo* out) const {
  FinishedFields fields;
  if (ring_ == nullptr || !ring_->find(id, &fields) || now_ns - fields.finished_ns > retention_ns_) return false;
  TaskInfo info = info_of(fields);
  if (fields.has_texts) {
    std::lock_guard lock(texts_mutex_);
    const auto it = texts_.find(id);
    if (it == texts_.end()) return false;  // evicted since the ring was read
    info.last_error = it->second.last_error;
    info.result = it->second.result;
  }
  *out = std::move(info);
  return true;
}

FinishedTasks::Callback FinishedTasks::register_pending(TaskId id, const std::atomic<std::uint32_t>& ended,
                                                        std::int64_t now_ns, Callback callback, std::uint64_t* token,
                                                        TaskInfo* out) {
  {
    std::lock_guard lock(pending_mutex_);
    *token = next_token_++;
    pending_map_.emplace(id, Pending{*token, std::move(callback)});
    pending_.fetch_add(1, std::memory_order_relaxed);
  }
  // The rare side of add()'s fence: a membarrier, a few microseconds.
  heavy_fence();
  // acquire: pairs with add()'s release; a later generation's end means
  // this one ended before it (generations only grow).
  const bool has_ended = ended.load(std::memory_order_acquire) >= static_cast<std::uint32_t>(id >> 32);
  if (!find(id, now_ns, out)) {
    if (!has_ended) return {};  // add() is still to come: it sees the registration
    *out = TaskInfo{};  // ended, and no longer remembered
    out->id = id;
  }
  return withdraw(id, *token);
}

FinishedTasks::Callback FinishedTasks::withdraw(TaskId id, std::uint64_t token) {
  std::lock_guard lock(pending_mutex_);
  auto [first, last] = pending_map_.equal_range(id);
  for (auto it = first; it != last; ++it) {
    if (it->second.token == token) {
      Callback callback = std::move(it->second.callback);
      pending_map_.erase(it);
      pending_.fetch_sub(1, std::memory_order_relaxed);
      return callback;
    }
  }
  return {};
}

bool FinishedTasks::when_added(TaskId id, const std::atomic<std::uint32_t>& ended, std::int64_t now_ns,
                               Callback callback) {
  TaskInfo info;
  if (find(id, now_ns, &info)) {
    callback(info);
    return true;
  }
  std::uint64_t token = 0;
  Callback withdrawn = register_pending(id, ended, now_ns, std::move(callback), &token, &info);
  if (!withdrawn) return false;
  withdrawn(info);
  return true;
}

bool FinishedTasks::wait_for(TaskId id, const std::atomic<std::uint32_t>& ended, std::int64_t now_ns,
                             std::chrono::nanoseconds timeout, TaskInfo* out) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable done;
    bool added = false;
    TaskInfo info;
  };
  if (find(id, now_ns, out)) return true;
  auto waiter = std::make_shared<Waiter>();
  std::uint64_t token = 0;
  if (register_pending(id, ended, now_ns,
                       [waiter](const TaskInfo& info) {
                         std::lock_guard lock(waiter->mutex);
                         waiter->info = info;
                         waiter->added = true;
                         waiter->done.notify_all();
                       },
                       &token, out)) {
    return true;  // finished meanwhile: `out` is its state
  }
  {
    std::unique_lock lock(waiter->mutex);
    if (waiter->done.wait_for(lock, timeout, [&] { return waiter->added; })) {
      *out = waiter->info;
      return true;
    }
  }
  // Timed out: withdraw the waiter (unless add() took it meanwhile: then
  // its callback runs harmlessly on the shared state).
  withdraw(id, token);
  return false;
}

std::uint64_t FinishedTasks::evicted() const noexcept {
  if (ring_ == nullptr) return 0;
  // size first: every entry it counts was added before added() is read.
  const std::size_t held = ring_->size(retention_ns_);
  const std::uint64_t added = ring_->added();
  return added > held ? added - held : 0;
}

std::size_t FinishedTasks::size() const noexcept { return ring_ == nullptr ? 0 : ring_->size(retention_ns_); }

}  // namespace brisk::detail
