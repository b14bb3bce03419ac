// Umbrella header: everything an embedding application needs.
#pragma once

#include "brisk/clock.hpp"
#include "brisk/config.hpp"
#include "brisk/dead_letter.hpp"
#include "brisk/engine.hpp"
#include "brisk/health.hpp"
#include "brisk/producer.hpp"
#include "brisk/stats.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "brisk/task_status.hpp"
#include "brisk/trace_control.hpp"
#include "brisk/workflow.hpp"
