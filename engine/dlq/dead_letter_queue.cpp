#include "dlq/dead_letter_queue.hpp"

#include <algorithm>

namespace brisk::detail {

std::optional<DeadLetter> DeadLetterQueue::add(DeadLetter letter, const AddJournal& journal) {
  std::lock_guard lock(mutex_);
  std::optional<DeadLetter> dropped;
  if (letters_.size() == capacity_) {
    dropped = std::move(letters_.front());
    letters_.pop_front();
    ++dropped_;
  }
  if (journal) journal(letter, dropped ? &*dropped : nullptr);
  letters_.push_back(std::move(letter));
  return dropped;
}

std::vector<DeadLetter> DeadLetterQueue::list() const {
  std::lock_guard lock(mutex_);
  return {letters_.begin(), letters_.end()};
}

std::size_t DeadLetterQueue::size() const {
  std::lock_guard lock(mutex_);
  return letters_.size();
}

std::optional<DeadLetter> DeadLetterQueue::take(TaskId id) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(letters_.begin(), letters_.end(),
                               [id](const DeadLetter& l) { return l.id == id; });
  if (it == letters_.end()) return std::nullopt;
  DeadLetter letter = std::move(*it);
  letters_.erase(it);
  return letter;
}

std::size_t DeadLetterQueue::purge(const std::function<void()>& journal) {
  std::lock_guard lock(mutex_);
  if (journal) journal();
  const std::size_t n = letters_.size();
  letters_.clear();
  return n;
}

std::uint64_t DeadLetterQueue::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace brisk::detail
