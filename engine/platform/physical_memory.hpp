// How much memory this machine has.
#pragma once

#include <cstdint>

namespace brisk::detail {

// Physical memory in bytes (sysconf), or 0 when the system does not say.
std::uint64_t physical_memory_bytes() noexcept;

}  // namespace brisk::detail
