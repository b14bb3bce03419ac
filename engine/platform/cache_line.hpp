// Cache-line size used for padding. std::hardware_destructive_interference_size
// varies with compiler flags (and GCC warns when it is used in headers), so
// brisk fixes 64 bytes: the line size of every x86-64 and most ARM64 cores.
// (128-byte spacing for adjacent-line prefetch was measured and does not
// help on this project's machines: docs/perf.md, BM_ContendedPair.)
#pragma once

#include <cstddef>

namespace brisk::detail {
inline constexpr std::size_t kCacheLine = 64;
}  // namespace brisk::detail

// Layout rules as code. A padded structure states, inside one of its member
// functions (its constructor, where the offsets of private members can be
// named), which members must not share a cache line. offsetof on a class
// that is not standard-layout (one holding a unique_ptr, say) is
// "conditionally supported": GCC and Clang compute it for any class without
// virtual bases, and warn; these checks use it knowingly.
//
// `a` and `b` start on different cache lines.
#define BRISK_ASSERT_LINES_APART(Class, a, b)                                                     \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Winvalid-offsetof\"")         \
  static_assert(offsetof(Class, a) / ::brisk::detail::kCacheLine !=                               \
                    offsetof(Class, b) / ::brisk::detail::kCacheLine,                             \
                #Class ": " #a " and " #b " share a cache line");                                 \
  _Pragma("GCC diagnostic pop")

// `m` starts a cache line and is the last thing on it: the structure's size
// rounds up past it, so whatever follows the structure is on another line.
#define BRISK_ASSERT_LAST_LINE_ALONE(Class, m)                                                    \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Winvalid-offsetof\"")         \
  static_assert(offsetof(Class, m) % ::brisk::detail::kCacheLine == 0 &&                          \
                    sizeof(Class) % ::brisk::detail::kCacheLine == 0 &&                           \
                    sizeof(Class) - offsetof(Class, m) == ::brisk::detail::kCacheLine,            \
                #Class ": " #m " does not have the last cache line to itself");                   \
  _Pragma("GCC diagnostic pop")
