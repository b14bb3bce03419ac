// DeadLetterQueue: where failed named tasks rest until a person replays or
// purges them. Failures are the cold path, so a mutex is the right tool.
// Bounded: beyond `capacity` entries the oldest are dropped and counted.
//
// A journal (the write-ahead log) is called under the queue's lock, so that
// the log records letters, drops and purges in the order the queue applies
// them: a purge never removes from memory a letter it leaves in the log, nor
// the other way round.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "brisk/dead_letter.hpp"

namespace brisk::detail {

class DeadLetterQueue {
 public:
  explicit DeadLetterQueue(std::size_t capacity) : capacity_(capacity) {}

  using AddJournal = std::function<void(const DeadLetter& added, const DeadLetter* dropped)>;

  // Adds the letter, dropping the oldest when full (returned).
  std::optional<DeadLetter> add(DeadLetter letter, const AddJournal& journal = {});
  std::vector<DeadLetter> list() const;
  std::size_t size() const;
  // Removes and returns the entry for id (to replay it), if present.
  std::optional<DeadLetter> take(TaskId id);
  // Removes everything; returns how many entries were removed.
  std::size_t purge(const std::function<void()>& journal = {});
  std::uint64_t dropped() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<DeadLetter> letters_;
  std::uint64_t dropped_ = 0;
};

}  // namespace brisk::detail
