// Cache-line size used for padding. std::hardware_destructive_interference_size
// varies with compiler flags (and GCC warns when it is used in headers), so
// brisk fixes 64 bytes: the line size of every x86-64 and most ARM64 cores.
#pragma once

#include <cstddef>

namespace brisk::detail {
inline constexpr std::size_t kCacheLine = 64;
}  // namespace brisk::detail
