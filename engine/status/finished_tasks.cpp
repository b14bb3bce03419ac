#include "status/finished_tasks.hpp"

#include <bit>
#include <chrono>

namespace brisk::detail {

namespace {

// Shards for a store this large: one for a small store (so that its bound
// is exact), else 16.
std::size_t shard_count(std::size_t capacity) noexcept { return capacity >= 1024 ? 16 : 1; }

std::uint64_t mix(TaskId id) noexcept { return static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull; }

}  // namespace

struct FinishedTasks::Shard {
  struct Pending {
    std::uint64_t token;
    Callback callback;
  };

  explicit Shard(std::size_t cap)
      : capacity(cap), index(cap == 0 ? 0 : std::bit_ceil(cap * 2), 0), mask(index.empty() ? 0 : index.size() - 1) {}

  const std::size_t capacity;
  mutable std::mutex mutex;
  std::vector<FinishedTask> ring;         // grows to capacity, then entries are reused in place
  std::size_t oldest = 0;             // ring position of the oldest entry
  std::size_t count = 0;
  std::vector<std::uint32_t> index;   // ring position + 1; 0: empty (linear probing, load <= 1/2)
  const std::size_t mask;
  std::unordered_multimap<TaskId, Pending> pending;  // callbacks (and waiters) by task
  std::uint64_t next_token = 1;
  std::uint64_t evicted = 0;

  std::size_t home(TaskId id) const noexcept { return static_cast<std::size_t>(mix(id) >> 20) & mask; }

  // The index slot holding id, or index.size() when absent.
  std::size_t slot_of(TaskId id) const noexcept {
    if (index.empty()) return 0;
    for (std::size_t i = home(id);; i = (i + 1) & mask) {
      if (index[i] == 0) return index.size();
      if (ring[index[i] - 1].id == id) return i;
    }
  }

  void index_insert(TaskId id, std::size_t pos) noexcept {
    std::size_t i = home(id);
    while (index[i] != 0) i = (i + 1) & mask;
    index[i] = static_cast<std::uint32_t>(pos + 1);
  }

  // Backward-shift deletion: entries after the hole that could live in it
  // move back, so that probing never stops early at a false empty slot.
  void index_erase(std::size_t hole) noexcept {
    index[hole] = 0;
    for (std::size_t j = (hole + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
      const std::size_t k = home(ring[index[j] - 1].id);
      // j's entry may move to the hole unless its home lies cyclically in (hole, j].
      const bool home_after_hole = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (!home_after_hole) {
        index[hole] = index[j];
        index[j] = 0;
        hole = j;
      }
    }
  }

  void evict_oldest() noexcept {
    index_erase(slot_of(ring[oldest].id));
    oldest = oldest + 1 == capacity ? 0 : oldest + 1;
    --count;
    ++evicted;
  }

  void expire(std::int64_t now_ns, std::int64_t retention_ns) noexcept {
    while (count != 0 && now_ns - ring[oldest].finished_ns > retention_ns) evict_oldest();
  }

  void push(FinishedTask&& task, std::int64_t retention_ns) {
    expire(task.finished_ns, retention_ns);
    if (count == capacity) evict_oldest();
    std::size_t pos = oldest + count;
    if (pos >= capacity) pos -= capacity;
    if (pos == ring.size()) {
      ring.push_back(std::move(task));
    } else {
      ring[pos] = std::move(task);
    }
    ++count;
    index_insert(ring[pos].id, pos);
  }

  const FinishedTask* find(TaskId id, std::int64_t now_ns, std::int64_t retention_ns) const {
    const std::size_t slot = slot_of(id);
    if (slot >= index.size()) return nullptr;
    const FinishedTask& task = ring[index[slot] - 1];
    return now_ns - task.finished_ns > retention_ns ? nullptr : &task;
  }
};

FinishedTasks::FinishedTasks(std::size_t capacity, std::int64_t retention_ns, const TickClock& ticks)
    : capacity_(capacity), retention_ns_(retention_ns), ticks_(ticks) {
  const std::size_t n = shard_count(capacity);
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>((capacity + n - 1) / n));
}

FinishedTasks::~FinishedTasks() = default;

FinishedTasks::Shard& FinishedTasks::shard_of(TaskId id) const noexcept {
  return *shards_[static_cast<std::size_t>(mix(id) >> 60) % shards_.size()];
}

TaskInfo FinishedTasks::info_of(const FinishedTask& task) const {
  TaskInfo info;
  info.id = task.id;
  info.state = task.state;
  info.attempts = task.attempts;
  info.accepted_ns = ticks_.time_of(task.accepted_stamp);
  info.started_ns = task.started_ns;
  info.finished_ns = task.finished_ns;
  if (task.texts) {
    info.last_error = task.texts->last_error;
    info.result = task.texts->result;
  }
  return info;
}

void FinishedTasks::add(FinishedTask&& task) {
  Shard& shard = shard_of(task.id);
  std::vector<Callback> ready;
  const TaskId id = task.id;
  TaskInfo info;
  {
    std::lock_guard lock(shard.mutex);
    if (!shard.pending.empty()) {
      auto [first, last] = shard.pending.equal_range(id);
      for (auto it = first; it != last; ++it) ready.push_back(std::move(it->second.callback));
      shard.pending.erase(first, last);
      pending_.fetch_sub(ready.size(), std::memory_order_relaxed);
    }
    if (!ready.empty()) info = info_of(task);
    if (shard.capacity != 0) shard.push(std::move(task), retention_ns_);
  }
  for (Callback& callback : ready) callback(info);
}

bool FinishedTasks::find(TaskId id, std::int64_t now_ns, TaskInfo* out) const {
  const Shard& shard = shard_of(id);
  std::lock_guard lock(shard.mutex);
  const FinishedTask* task = shard.find(id, now_ns, retention_ns_);
  if (task != nullptr) *out = info_of(*task);
  return task != nullptr;
}

bool FinishedTasks::when_added(TaskId id, std::int64_t now_ns, Callback callback) {
  Shard& shard = shard_of(id);
  TaskInfo info;
  {
    std::lock_guard lock(shard.mutex);
    const FinishedTask* task = shard.find(id, now_ns, retention_ns_);
    if (task == nullptr) {
      shard.pending.emplace(id, Shard::Pending{shard.next_token++, std::move(callback)});
      pending_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    info = info_of(*task);
  }
  callback(info);
  return true;
}

bool FinishedTasks::wait_for(TaskId id, std::int64_t now_ns, std::chrono::nanoseconds timeout, TaskInfo* out) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable done;
    bool added = false;
    TaskInfo info;
  };
  auto waiter = std::make_shared<Waiter>();
  Shard& shard = shard_of(id);
  std::uint64_t token = 0;
  {
    std::lock_guard lock(shard.mutex);
    if (const FinishedTask* task = shard.find(id, now_ns, retention_ns_)) {
      *out = info_of(*task);
      return true;
    }
    token = shard.next_token++;
    shard.pending.emplace(id, Shard::Pending{token, [waiter](const TaskInfo& info) {
                                               std::lock_guard lock(waiter->mutex);
                                               waiter->info = info;
                                               waiter->added = true;
                                               waiter->done.notify_all();
                                             }});
    pending_.fetch_add(1, std::memory_order_relaxed);
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
  std::lock_guard lock(shard.mutex);
  auto [first, last] = shard.pending.equal_range(id);
  for (auto it = first; it != last; ++it) {
    if (it->second.token == token) {
      shard.pending.erase(it);
      pending_.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
  }
  return false;
}

std::uint64_t FinishedTasks::evicted() const noexcept {
  std::uint64_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    n += shard->evicted;
  }
  return n;
}

std::size_t FinishedTasks::size() const noexcept {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    n += shard->count;
  }
  return n;
}

}  // namespace brisk::detail
