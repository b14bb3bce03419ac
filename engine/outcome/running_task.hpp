// RunningTask: the TaskContext a handler sees while its attempt runs.
#pragma once

#include <string>
#include <string_view>

#include "brisk/clock.hpp"
#include "brisk/task.hpp"
#include "registry/task_registry.hpp"
#include "task/task_record.hpp"

namespace brisk::detail {

class RunningTask final : public TaskContext {
 public:
  RunningTask(const TaskRecord& record, const TaskTypeEntry& type, const Clock& clock, std::size_t max_result_bytes,
              BatchId batch)
      : record_(record), type_(type), clock_(clock), max_result_bytes_(max_result_bytes), batch_(batch) {
    const auto soft = type.options.soft_timeout.count();
    soft_deadline_ns_ = soft > 0 ? clock.now_ns() + soft : 0;
  }

  TaskId id() const noexcept override { return task_id_of(record_); }
  std::string_view name() const noexcept override { return type_.name; }
  std::string_view payload() const noexcept override { return record_.payload(); }
  std::string_view idempotency_key() const noexcept override { return record_.idempotency_key(); }
  std::uint32_t attempt() const noexcept override { return record_.attempt.load(std::memory_order_relaxed); }
  std::int64_t soft_deadline_ns() const noexcept override { return soft_deadline_ns_; }
  bool past_soft_deadline() const noexcept override {
    return soft_deadline_ns_ != 0 && clock_.now_ns() >= soft_deadline_ns_;
  }
  bool cancellation_requested() const noexcept override {
    return record_.stop_requested.load(std::memory_order_relaxed);
  }
  void set_result(std::string_view bytes) override {
    if (bytes.size() > max_result_bytes_) {
      too_large_ = bytes.size();  // the attempt fails once the handler returns
      result_.clear();
      return;
    }
    too_large_ = 0;
    result_.assign(bytes);
  }

  BatchId batch_id() const noexcept override { return batch_; }

  // Bytes of a result over the limit that the handler tried to set (0: none).
  std::size_t result_too_large() const noexcept { return too_large_; }
  std::string take_result() noexcept { return std::move(result_); }

 private:
  const TaskRecord& record_;
  const TaskTypeEntry& type_;
  const Clock& clock_;
  const std::size_t max_result_bytes_;
  const BatchId batch_;
  std::int64_t soft_deadline_ns_ = 0;
  std::string result_;
  std::size_t too_large_ = 0;
};

}  // namespace brisk::detail
