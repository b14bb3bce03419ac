#include "idempotency/idempotency_index.hpp"

namespace brisk::detail {

void IdempotencyIndex::expire_locked(Shard& shard, std::int64_t now_ns) {
  while (!shard.by_age.empty() && now_ns - shard.by_age.front().first >= retention_ns_) {
    const auto& [accepted_ns, key] = shard.by_age.front();
    const auto it = shard.by_key.find(key);
    // The map may hold a newer claim of the same key (after a forget or a
    // restore): only the entry this FIFO slot describes expires.
    if (it != shard.by_key.end() && it->second.accepted_ns == accepted_ns) shard.by_key.erase(it);
    shard.by_age.pop_front();
  }
}

IdempotencyIndex::ClaimResult IdempotencyIndex::claim(std::string_view key, TaskId id, std::int64_t now_ns) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  expire_locked(shard, now_ns);
  const auto it = shard.by_key.find(std::string(key));
  if (it != shard.by_key.end()) return {Claim::duplicate, it->second.id};
  if (shard.by_key.size() >= max_keys_per_shard_) return {Claim::full, 0};
  shard.by_key.emplace(std::string(key), Entry{id, now_ns});
  shard.by_age.emplace_back(now_ns, std::string(key));
  return {Claim::claimed, 0};
}

void IdempotencyIndex::forget(std::string_view key, TaskId id) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.by_key.find(std::string(key));
  if (it != shard.by_key.end() && it->second.id == id) shard.by_key.erase(it);
}

void IdempotencyIndex::restore(std::string_view key, TaskId id, std::int64_t accepted_ns) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  shard.by_key[std::string(key)] = Entry{id, accepted_ns};
  shard.by_age.emplace_back(accepted_ns, std::string(key));
}

std::size_t IdempotencyIndex::size() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.by_key.size();
  }
  return n;
}

}  // namespace brisk::detail
