// Scheduler::prometheus_text(): the schedules' counters as a Prometheus
// exposition (names in docs/architecture.md, "Periodic tasks").
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "brisk/schedule.hpp"

namespace brisk::schedule {

// dropped: firings of a schedule no longer added (brisk_schedule_dropped_total).
std::string prometheus_text(std::span<const ScheduleStats> schedules, std::uint64_t dropped);

}  // namespace brisk::schedule
