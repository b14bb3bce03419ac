// Built against an installed brisk, once through its CMake package and once
// with the flags `pkg-config --static --cflags --libs brisk` prints: proves
// headers, library, brisk.pc and the CMake package.
#include <brisk/brisk.hpp>

#include <atomic>
#include <cstdio>

int main() {
  brisk::EngineConfig config;
  config.workers = 2;
  config.pin_workers = false;
  brisk::Engine engine(config);
  engine.start();
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) {
    if (engine.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); }) !=
        brisk::SubmitStatus::accepted) {
      return 1;
    }
  }
  engine.drain();
  std::printf("consumer ran %d tasks\n", ran.load());
  return ran.load() == 1000 ? 0 : 2;
}
