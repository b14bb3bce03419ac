// What every system and workload is given: the shape of one program run.
#pragma once

namespace peers {

struct RunConfig {
  unsigned threads = 1;     // worker threads, the same for every system
  bool pin_brisk = true;    // brisk pins its workers by default; peers do not pin
};

}  // namespace peers
