// Where post() boxes a closure too large for a ring slot (detail/job.hpp):
// a per-thread size-class slab (engine/alloc/), not operator new. The
// producer allocates, a worker frees; the slab gives the block back to its
// owner in batches, so the common cross-thread free costs no atomic of its
// own. docs/perf.md ("Boxed closures and payloads") has the measurements.
#pragma once

#include <cstddef>

namespace brisk::detail {

// Largest size and alignment box_allocate() serves.
inline constexpr std::size_t kBoxMaxBytes = 256;
inline constexpr std::size_t kBoxMaxAlign = 64;

// A block of at least `bytes` (<= kBoxMaxBytes) aligned to kBoxMaxAlign, or
// nullptr when this thread's slab is at its bound (the caller then uses
// operator new). Any thread.
void* box_allocate(std::size_t bytes) noexcept;
// Frees a block from box_allocate(), on any thread.
void box_free(void* block) noexcept;

}  // namespace brisk::detail
