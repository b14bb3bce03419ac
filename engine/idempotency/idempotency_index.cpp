#include "idempotency/idempotency_index.hpp"

namespace brisk::detail {

void IdempotencyIndex::erase_locked(Shard& shard, std::unordered_map<std::string, Entry>::iterator it) {
  shard.by_key.erase(it);
  held_.fetch_sub(1, std::memory_order_relaxed);
}

bool IdempotencyIndex::reserve() noexcept {
  std::size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (held >= max_keys_) return false;
  } while (!held_.compare_exchange_weak(held, held + 1, std::memory_order_relaxed));
  return true;
}

void IdempotencyIndex::expire_locked(Shard& shard, std::int64_t now_ns) {
  while (!shard.by_age.empty() && now_ns - shard.by_age.front().first >= retention_ns_) {
    const auto& [accepted_ns, key] = shard.by_age.front();
    const auto it = shard.by_key.find(key);
    // The map may hold a newer claim of the same key (after a forget or a
    // restore): only the entry this FIFO slot describes expires.
    if (it != shard.by_key.end() && it->second.accepted_ns == accepted_ns) erase_locked(shard, it);
    shard.by_age.pop_front();
  }
}

IdempotencyIndex::ClaimResult IdempotencyIndex::claim(std::string_view key, TaskId id, std::int64_t now_ns) {
  // Expiry is lazy, per shard: when the index looks full, other shards may
  // still hold expired keys. Sweep them all once (one lock at a time, never
  // two) and try again before answering `full`.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1) {
      for (Shard& other : shards_) {
        std::lock_guard lock(other.mutex);
        expire_locked(other, now_ns);
      }
    }
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    expire_locked(shard, now_ns);
    const auto it = shard.by_key.find(std::string(key));
    if (it != shard.by_key.end()) return {Claim::duplicate, it->second.id};
    if (!reserve()) continue;
    shard.by_key.emplace(std::string(key), Entry{id, now_ns});
    shard.by_age.emplace_back(now_ns, std::string(key));
    return {Claim::claimed, 0};
  }
  return {Claim::full, 0};
}

void IdempotencyIndex::forget(std::string_view key, TaskId id) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.by_key.find(std::string(key));
  if (it != shard.by_key.end() && it->second.id == id) erase_locked(shard, it);
}

void IdempotencyIndex::restore(std::string_view key, TaskId id, std::int64_t accepted_ns) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  // Restored keys count toward the bound but are never refused by it: they
  // were accepted before the restart.
  const auto [it, inserted] = shard.by_key.insert_or_assign(std::string(key), Entry{id, accepted_ns});
  if (inserted) held_.fetch_add(1, std::memory_order_relaxed);
  shard.by_age.emplace_back(accepted_ns, std::string(key));
}

std::size_t IdempotencyIndex::size() const { return held_.load(std::memory_order_relaxed); }

}  // namespace brisk::detail
