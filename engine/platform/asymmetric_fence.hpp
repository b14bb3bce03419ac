// Asymmetric fences: the two halves of a store-then-load handshake (each
// side stores, then loads what the other side stored: Dekker) where one
// side runs per task and the other rarely.
//
// With a seq_cst fence on each side the hot one pays a full barrier per
// task (a locked instruction that drains the store buffer: about 2% of an
// empty named task's samples when finished states are kept). On Linux the
// rare side can instead make every running thread of the process execute a
// full barrier (membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED: an
// interrupt to each CPU running one of them, about 1-5 us), so the hot side
// only keeps the compiler from moving its load above its stores. Where
// membarrier is missing (old kernels, seccomp), both sides use seq_cst
// fences. The same pairing as folly's asymmetricLightBarrier /
// asymmetricHeavyBarrier.
#pragma once

namespace brisk::detail {

// Registers the process for expedited membarrier, once. Call before any
// thread runs either side (an engine's constructor does): a light fence
// that ran before it returned was a full fence, which is never wrong.
void init_asymmetric_fences() noexcept;
// The per-task side.
void light_fence() noexcept;
// The rare side: a syscall when membarrier is there.
void heavy_fence() noexcept;

}  // namespace brisk::detail
