// `brisk profile --compare A.json B.json`: what changed between two reports
// (`brisk profile --json`), a tuning step's before and after. Every number
// is printed in the report's own unit (the field name says which: _ns,
// _s, _fraction, counts), with the difference and the ratio.
#pragma once

#include <string>

namespace brisk::tools {

// Returns the process exit code (1 and a message when a file is unreadable
// or not a report).
int run_compare(const std::string& a_path, const std::string& b_path);

}  // namespace brisk::tools
