// `brisk profile --attach URL`: the same run record as a workload run,
// fetched from a live engine's debug endpoints (docs/profiler.md):
// GET /debug/brisk/snapshot, then /debug/brisk/trace?seconds=N while a
// second connection samples the snapshot for the plots, then the snapshot
// again. Counters and histograms of the report are the window between the
// two snapshots; the trace covers the same seconds.
#pragma once

#include <string>

#include "brisk/profile_workload.hpp"

namespace brisk::tools {

// Throws std::runtime_error with the server's answer when a request fails
// (401: a token is needed or wrong; 404: debug endpoints are off; 409: a
// trace is already running).
WorkloadRun attach_run(const std::string& url, double seconds, const std::string& token, unsigned sample_ms);

}  // namespace brisk::tools
