#include "schedule/missed_slots.hpp"

#include <algorithm>

namespace brisk::schedule {

bool runs_when_starting(const Schedule& schedule, const MissedSlots& policy, std::int64_t slot, std::int64_t now) {
  // Newer slots already come, up to what the policy needs to know.
  std::uint32_t newer = 0;
  const std::uint32_t need = policy.kind == MissedSlots::Kind::run_all ? policy.max_runs : 1;
  for (std::optional<std::int64_t> s = schedule.next_after(slot); s && *s <= now && newer < need;
       s = schedule.next_after(*s)) {
    ++newer;
  }
  if (newer == 0 && now - slot <= policy.grace.count()) return true;  // on time
  switch (policy.kind) {
    case MissedSlots::Kind::skip: return false;
    case MissedSlots::Kind::run_once: return newer == 0;
    case MissedSlots::Kind::run_all: return newer < policy.max_runs;
  }
  return false;
}

std::optional<std::int64_t> follow_on(const Schedule& schedule, const MissedSlots& policy, std::int64_t slot,
                                      std::int64_t now) {
  const std::optional<std::int64_t> next = schedule.next_after(slot);
  if (!next || *next > now) return next;  // on time: the next slot is still ahead
  // Slots came while the firing ran (or while the process was down).
  const std::optional<std::int64_t> newest = schedule.last_at_or_before(now);
  if (!newest) return next;
  switch (policy.kind) {
    case MissedSlots::Kind::skip:
      if (now - *newest <= policy.grace.count()) return newest;  // only just due: on time
      return schedule.next_after(now);
    case MissedSlots::Kind::run_once:
      return newest;
    case MissedSlots::Kind::run_all: {
      std::int64_t oldest = *newest;
      for (std::uint32_t i = 1; i < policy.max_runs && oldest > *next; ++i) {
        const std::optional<std::int64_t> before = schedule.last_at_or_before(oldest - 1);
        if (!before) break;
        oldest = *before;
      }
      return std::max(*next, oldest);
    }
  }
  return next;
}

std::uint64_t slots_between(const Schedule& schedule, std::int64_t slot, std::int64_t next) {
  std::uint64_t passed = 0;
  for (std::optional<std::int64_t> s = schedule.next_after(slot); s && *s < next && passed < 100'000;
       s = schedule.next_after(*s)) {
    ++passed;
  }
  return passed;
}

}  // namespace brisk::schedule
