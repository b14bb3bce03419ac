// The input checks of submit(): everything about a submission that can be
// judged from the submission itself, the configuration and the clock,
// before the engine takes anything (a record, a key, a ring position). A
// function of its inputs: it changes no engine state, so submit() has one
// place that says what is invalid and one undo path for the rest.
#pragma once

#include <cstdint>
#include <string_view>

#include "brisk/clock.hpp"
#include "brisk/config.hpp"
#include "brisk/task.hpp"
#include "durability/durable_log.hpp"
#include "registry/task_registry.hpp"

namespace brisk::detail {

struct SubmitPlan {
  std::string_view refusal;  // not empty: refused `invalid`, this is why
  bool durable = false;      // to be logged
  std::int64_t submit_ns = 0;  // accepted at (0 when nothing needs the time)
  std::int64_t due_ns = 0;     // when it may run (<= submit_ns: now)
};

// type: the registered type (null: an unknown name); log: the open log (null
// before start() or without one).
SubmitPlan check_submission(const EngineConfig& config, const Clock& clock, const TaskTypeEntry* type,
                            const DurableLog* log, std::string_view payload, const TaskOptions& options);

}  // namespace brisk::detail
