// Seeds for randomised tests: every such test prints its seed, and
// BRISK_TEST_SEED=<n> replays it exactly.
#pragma once

#include <cstdint>

namespace brisk::test {
// The seed to use: BRISK_TEST_SEED if set, otherwise a fresh random one.
// Printed (with the test's name) so any failure can be replayed.
std::uint64_t test_seed();
}  // namespace brisk::test
