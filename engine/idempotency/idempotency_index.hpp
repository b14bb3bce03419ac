// IdempotencyIndex: which idempotency keys were accepted, and when.
//
// A submission whose key was accepted within the retention window is a
// duplicate: it gets the first task's id back and does not run again. Keys
// expire in acceptance order (a FIFO beside the map), so expiry costs O(1)
// amortised per insert and no sweeper thread. Sharded by key hash, each
// shard under its own mutex: keyed submissions are the durable, named path,
// never the post() hot path. The WAL restores the index after a restart.
// max_keys bounds the keys held in all shards together, exactly: one
// counter beside the shards (a new key reserves a place in it first).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "brisk/submit.hpp"

namespace brisk::detail {

class IdempotencyIndex {
 public:
  IdempotencyIndex(std::int64_t retention_ns, std::size_t max_keys)
      : retention_ns_(retention_ns), max_keys_(max_keys) {}

  enum class Claim { claimed, duplicate, full };
  struct ClaimResult {
    Claim claim;
    TaskId existing = 0;  // for duplicate
  };

  // Claims key for id at now_ns unless a live claim exists.
  ClaimResult claim(std::string_view key, TaskId id, std::int64_t now_ns);
  // Undoes a claim whose submission was then refused.
  void forget(std::string_view key, TaskId id);
  // Restores a claim from the WAL (no duplicate check; keeps the newest).
  void restore(std::string_view key, TaskId id, std::int64_t accepted_ns);
  std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 16;
  struct Entry {
    TaskId id;
    std::int64_t accepted_ns;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> by_key;
    std::deque<std::pair<std::int64_t, std::string>> by_age;  // (accepted_ns, key)
  };
  Shard& shard_for(std::string_view key) noexcept {
    return shards_[std::hash<std::string_view>{}(key) % kShards];
  }
  void expire_locked(Shard& shard, std::int64_t now_ns);
  // Takes a place for a new key; false when max_keys are held.
  bool reserve() noexcept;
  void erase_locked(Shard& shard, std::unordered_map<std::string, Entry>::iterator it);

  const std::int64_t retention_ns_;
  const std::size_t max_keys_;
  // Keys held in all shards. relaxed: a count, read and changed only by
  // atomic RMWs; the keys themselves are guarded by their shard's mutex.
  std::atomic<std::size_t> held_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace brisk::detail
