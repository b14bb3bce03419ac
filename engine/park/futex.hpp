// Thin wrappers over Linux futex(2) on a 32-bit atomic word.
//
// std::atomic::wait/notify would do on paper, but libstdc++ 12 routes them
// through a shared, hashed waiter table and may spin first; brisk wants a
// plain FUTEX_WAIT/FUTEX_WAKE that wakes exactly the number asked for, and a
// timed wait for the timer thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace brisk::detail {

// Sleeps while word == expected. Returns on a wake, a spurious wake-up, a
// signal, when word != expected on entry, or after timeout_ns (< 0: none).
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::int64_t timeout_ns = -1) noexcept;

// Wakes up to count threads sleeping on word.
void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;

}  // namespace brisk::detail
