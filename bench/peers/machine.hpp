// Describes the machine and build for the report header.
#pragma once

#include "report/results.hpp"

namespace peers {

Meta describe_machine();

}  // namespace peers
