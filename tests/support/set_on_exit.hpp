// Sets a flag when a test's scope ends, however it ends. Declared after the
// engine whose handlers wait on the flag (and the flag before the engine),
// it runs before the engine's destructor, which would otherwise wait for
// those handlers for ever once a failed ASSERT returned early.
#pragma once

#include <atomic>

namespace brisk::test {

struct SetOnExit {
  std::atomic<bool>& flag;
  ~SetOnExit() { flag.store(true); }
};

}  // namespace brisk::test
