// Engine-private bits of detail::Job::flags.
#pragma once

#include <cstdint>

namespace brisk::detail {
// The job was posted through a Producer: its credit goes back when it has run.
inline constexpr std::uint32_t kJobReturnsCredit = 1u << 0;
}  // namespace brisk::detail
