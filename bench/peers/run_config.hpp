// What every system and workload is given: the shape of one program run.
#pragma once

namespace peers {

struct RunConfig {
  unsigned threads = 1;     // worker threads, the same for every system
  // brisk's pinning: -1 the engine's default (EngineConfig), 0 off, 1 on.
  // Peers never pin.
  int pin_brisk = -1;
};

}  // namespace peers
