// DeadLetterQueue: where failed named tasks rest until a person replays or
// purges them. Failures are the cold path, so a mutex is the right tool.
// Bounded: beyond `capacity` entries the oldest are dropped and counted;
// add() hands the dropped letter back, so that a durable one can be logged
// as gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "brisk/dead_letter.hpp"

namespace brisk::detail {

class DeadLetterQueue {
 public:
  explicit DeadLetterQueue(std::size_t capacity) : capacity_(capacity) {}

  // Returns the oldest letter when the queue was full and dropped it.
  std::optional<DeadLetter> add(DeadLetter letter);
  std::vector<DeadLetter> list() const;
  std::size_t size() const;
  // Removes and returns the entry for id (to replay it), if present.
  std::optional<DeadLetter> take(TaskId id);
  // Removes everything; returns how many entries were removed.
  std::size_t purge();
  std::uint64_t dropped() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<DeadLetter> letters_;
  std::uint64_t dropped_ = 0;
};

}  // namespace brisk::detail
