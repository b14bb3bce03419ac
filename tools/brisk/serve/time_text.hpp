// Times as the service's API writes and reads them: RFC 3339 text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace brisk::serve {

// An engine time (steady_clock nanoseconds, what TaskInfo holds) as RFC 3339
// UTC with milliseconds, through the wall clock now; "" for 0 (never).
std::string wall_time(std::int64_t engine_ns);
// RFC 3339 ("2030-01-02T03:04:05Z", "...05.250+02:00") -> Unix nanoseconds;
// nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339(const std::string& s);

}  // namespace brisk::serve
