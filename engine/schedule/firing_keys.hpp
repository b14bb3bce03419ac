// How a periodic firing is named in the engine: its idempotency key
// "brisk.schedule/<name>/<slot>" dedupes the slot across processes and
// restarts; a wake task ("brisk.schedule.wake", key
// "brisk.schedule.wake/<name>/<slot>") submits a far-off slot's firing later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace brisk::schedule {

inline constexpr std::string_view kFiringPrefix = "brisk.schedule/";
inline constexpr std::string_view kWakePrefix = "brisk.schedule.wake/";
inline constexpr const char* kWakeType = "brisk.schedule.wake";

// "brisk.schedule/<name>/<slot>".
std::string firing_key(std::string_view name, std::int64_t slot);
// "brisk.schedule.wake/<name>/<slot>".
std::string wake_key(std::string_view name, std::int64_t slot);
// "<name>/<slot>" after a prefix: the name may hold '/', the slot (a
// decimal int64, maybe negative) is last. False if it is not that shape.
bool split_name_slot(std::string_view rest, std::string_view* name, std::int64_t* slot);

}  // namespace brisk::schedule
