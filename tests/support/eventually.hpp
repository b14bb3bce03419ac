// Waits for a condition with a generous bound, so that a bug fails the test
// instead of hanging it. Not a timing assertion: the bound is far above any
// legitimate wait.
#pragma once

#include <chrono>
#include <thread>

namespace brisk::test {

template <class F>
bool eventually(F&& condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

}  // namespace brisk::test
