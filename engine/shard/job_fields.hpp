// JobFields: the engine's access to a Job's private fields, its submit
// stamp and its flags, which a caller of post() never sees or sets.
#pragma once

#include <cstdint>

#include "brisk/detail/job.hpp"

namespace brisk::detail {

struct JobFields {
  // The job was posted through a Producer: its credit goes back when it has run.
  static constexpr std::uint32_t kReturnsCredit = 1u << 0;

  static std::uint64_t submit_stamp(const Job& job) noexcept { return job.submit_stamp_; }
  static void set_submit_stamp(Job& job, std::uint64_t stamp) noexcept { job.submit_stamp_ = stamp; }
  static bool returns_credit(const Job& job) noexcept { return (job.flags_ & kReturnsCredit) != 0; }
  static void mark_returns_credit(Job& job) noexcept { job.flags_ |= kReturnsCredit; }
};

}  // namespace brisk::detail
