// Moved to flow/job_flags.hpp (the worker reads it, and a mechanism never
// includes core); kept for producer.cpp until it includes the new place.
#pragma once

#include "flow/job_flags.hpp"
