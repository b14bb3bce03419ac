// Workflows over named tasks: batches (fan-out with a join) and chains.
//
//   BatchId b = engine.open_batch({.on_complete = {"report", "nightly"}});
//   for (auto& user : users) engine.submit("email", user, {.batch = b});
//   engine.seal_batch(b);     // callbacks run once every task has finished
//
//   engine.submit_chain({{"fetch", url}, {"resize", ""}, {"upload", ""}});
//   // resize runs with fetch's result as its payload, upload with resize's
//
// A batch's callbacks are named tasks, submitted once when the batch is
// sealed and none of its tasks is pending any more (succeeded, dead-lettered
// or cancelled); their payload starts with a summary line
// (BatchSummary::parse). Tasks of the batch may add tasks to it while it is
// not complete (nested fan-out), even after it was sealed.
//
// Durable when their tasks are (BatchOptions::durability, a chain's
// TaskOptions::durability): a batch's opening, members, seal and callbacks,
// and a chain's steps, are logged with the tasks, so after a crash a batch
// whose tasks all finished runs its callbacks exactly once, one with tasks
// pending resumes, and a chain goes on from the step it had reached (the
// next step is submitted with the idempotency key "brisk.chain/<durable id
// of the step before>": once, also if that step runs again). A durable
// batch takes durable tasks only. Before start() (the log is opened there)
// a durable batch cannot be opened. docs/architecture.md, "Workflows".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace brisk {

enum class Durability : std::uint8_t;  // task.hpp, which includes this header

using BatchId = std::uint64_t;  // 0: none

// A named task to submit later: a batch callback, a chain step.
struct TaskCall {
  std::string task;     // registered task name
  std::string payload;  // a chain step after the first must leave it empty: it gets the previous result
};

struct BatchOptions {
  TaskCall on_success;   // when every task succeeded (task empty: none)
  TaskCall on_complete;  // when every task finished, whatever the outcome (task empty: none)
  // durable: logged, survives a restart (its tasks must be durable too);
  // memory: not logged; {} is engine_default: durable when
  // EngineConfig::durability says tasks are.
  Durability durability{};
};

struct BatchInfo {
  BatchId id = 0;
  bool sealed = false;
  bool complete = false;  // sealed and nothing pending: callbacks submitted
  bool durable = false;   // logged: survives a restart
  std::uint64_t total = 0, pending = 0, succeeded = 0, dead_lettered = 0, cancelled = 0;
};

// The first line of a batch callback's payload:
//   "brisk-batch id=7 total=3 succeeded=2 dead_lettered=1 cancelled=0\n"
// followed by the callback's own payload.
struct BatchSummary {
  BatchInfo info;
  std::string_view payload;  // the callback's own payload, after the line
  static std::optional<BatchSummary> parse(std::string_view callback_payload);
};

}  // namespace brisk
