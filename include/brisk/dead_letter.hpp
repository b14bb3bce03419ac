// Dead letters: named tasks that failed permanently or exhausted their
// retries, kept with everything a person needs to investigate or replay them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "brisk/submit.hpp"

namespace brisk {

struct AttemptFailure {
  std::int64_t time_ns = 0;  // engine clock
  std::uint32_t attempt = 0;
  std::string message;
};

struct DeadLetter {
  TaskId id = 0;  // the id the task had when it failed (its durable id if recovered from the log)
  std::uint64_t durable_id = 0;  // the task's id in the write-ahead log; 0: not durable
  std::string name;
  std::string payload;
  std::uint32_t attempts = 0;
  std::vector<AttemptFailure> failures;  // one per failed attempt, oldest first
};

}  // namespace brisk
