// The text report of `brisk profile` and its JSON twin (--json).
#pragma once

#include <ostream>
#include <vector>

#include "brisk/profile_model.hpp"
#include "brisk/tuning_advice.hpp"

namespace brisk::tools {

// Every section but the outputs list, to stdout.
void print_report(const Profile& profile, const std::vector<Advice>& advice);

void write_report_json(std::ostream& out, const Profile& profile, const Measurements& m,
                       const std::vector<Advice>& advice);

}  // namespace brisk::tools
