// Hook for the durable-throughput workload of issue 7: brisk with its
// write-ahead log (commit per task and group commit) beside Redis with
// appendfsync always and everysec. engine/wal is still being integrated, so
// there is no durable path to measure yet; the report says so instead of
// printing a number. When the WAL lands, add Kind::durable here (a named-task
// submit() with durability on) and a Redis adapter under systems/.
#pragma once

#include <string_view>

namespace peers {

inline constexpr std::string_view kDurableStatus =
    "not measured yet: the WAL (engine/wal) is not integrated; no Redis comparison until it is";

}  // namespace peers
