// RunningTask: the TaskContext a handler sees while its attempt runs.
#pragma once

#include "brisk/clock.hpp"
#include "brisk/task.hpp"
#include "registry/task_registry.hpp"
#include "task/task_record.hpp"

namespace brisk::detail {

class RunningTask final : public TaskContext {
 public:
  RunningTask(const TaskRecord& record, const TaskTypeEntry& type, const Clock& clock)
      : record_(record), type_(type), clock_(clock) {
    const auto soft = type.options.soft_timeout.count();
    soft_deadline_ns_ = soft > 0 ? clock.now_ns() + soft : 0;
  }

  TaskId id() const noexcept override { return task_id_of(record_); }
  std::string_view name() const noexcept override { return type_.name; }
  std::string_view payload() const noexcept override { return record_.payload(); }
  std::string_view idempotency_key() const noexcept override { return record_.idempotency_key(); }
  std::uint32_t attempt() const noexcept override { return record_.attempt; }
  std::int64_t soft_deadline_ns() const noexcept override { return soft_deadline_ns_; }
  bool past_soft_deadline() const noexcept override {
    return soft_deadline_ns_ != 0 && clock_.now_ns() >= soft_deadline_ns_;
  }
  bool cancellation_requested() const noexcept override {
    return record_.stop_requested.load(std::memory_order_relaxed);
  }

 private:
  const TaskRecord& record_;
  const TaskTypeEntry& type_;
  const Clock& clock_;
  std::int64_t soft_deadline_ns_ = 0;
};

}  // namespace brisk::detail
