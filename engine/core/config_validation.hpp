// EngineConfig's validation: every field in range, and the whole within
// the machine's memory. Engine's constructor runs it before anything else.
#pragma once

#include "brisk/config.hpp"

namespace brisk::detail {

// The configuration with its defaults filled in (credits, credit_chunk,
// cpus), or ConfigError naming the offending field and its value.
EngineConfig validated_config(EngineConfig config);

}  // namespace brisk::detail
