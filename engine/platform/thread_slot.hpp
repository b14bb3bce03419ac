// A number below kThreadSlots, unique among the live threads that hold one:
// for structures that give each writing thread a part of its own (a
// FinishedRing cursor), so that a write needs neither a lock nor a locked
// instruction to own it. Unlike this_thread_number() (thread_number.hpp),
// which only spreads threads, two live threads never share a slot.
//
// A thread takes the lowest free slot the first time it asks and gives it
// back when it exits (with release: what it wrote to its part happens
// before the next holder takes the slot, with acquire). A thread that first
// asks while every slot is held keeps kNoThreadSlot, as does one asking
// after its thread-local storage was destroyed: the caller then takes a
// shared path.
#pragma once

#include <cstddef>

namespace brisk::detail {

inline constexpr std::size_t kThreadSlots = 128;
inline constexpr std::size_t kNoThreadSlot = kThreadSlots;

std::size_t this_thread_slot() noexcept;

}  // namespace brisk::detail
