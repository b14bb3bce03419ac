// The MissedSlots policy (include/brisk/schedule.hpp) as pure functions of
// a schedule, its policy, a slot and the wall time: whether a firing that
// starts now runs, and which slot to submit after a firing ends. The
// Scheduler calls them under its schedule's lock; they hold no state.
#pragma once

#include <cstdint>
#include <optional>

#include "brisk/schedule.hpp"

namespace brisk::schedule {

// A firing of `slot` starts its first attempt at wall time `now`: true if
// it runs (on time, or late but the policy runs it).
bool runs_when_starting(const Schedule& schedule, const MissedSlots& policy, std::int64_t slot, std::int64_t now);

// The slot to submit after a firing of `slot` ended at wall time `now`:
// the next slot when on time; after a late end, the one the policy picks
// from those that came meanwhile. nullopt: the schedule has no more slots.
std::optional<std::int64_t> follow_on(const Schedule& schedule, const MissedSlots& policy, std::int64_t slot,
                                      std::int64_t now);

// Slots strictly between `slot` and `next` (capped at 100000): those a
// follow_on() passed over without a firing.
std::uint64_t slots_between(const Schedule& schedule, std::int64_t slot, std::int64_t next);

}  // namespace brisk::schedule
