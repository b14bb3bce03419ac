// RunningTask: the TaskContext a handler sees while its attempt runs.
#pragma once

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "brisk/clock.hpp"
#include "brisk/task.hpp"
#include "registry/task_registry.hpp"
#include "task/task_record.hpp"

namespace brisk::detail {

class RunningTask final : public TaskContext {
 public:
  RunningTask(TaskRecord& record, const TaskTypeEntry& type, const Clock& clock, std::size_t max_result_bytes,
              BatchId batch, DeferredSink& sink)
      : record_(record), type_(type), clock_(clock), max_result_bytes_(max_result_bytes), batch_(batch), sink_(sink) {
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

  DeferredOutcome defer() override {
    if (deferral_tag_ != 0) throw std::logic_error("TaskContext::defer() called twice in one attempt");
    deferral_tag_ = deferral_word(generation_of(record_), record_.attempt.load(std::memory_order_relaxed),
                                  RecordState::deferring);
    // release: a completer on another thread that takes the attempt over
    // (its CAS reads this word) sees the record as this thread left it. A
    // store: while running, only this thread changes the state.
    record_.state_word.store(deferral_tag_, std::memory_order_release);
    return DeferredOutcome(sink_, &record_, this, deferral_tag_, record_.type);
  }

  // The deferring word defer() stored (0: the handler did not defer).
  std::uint64_t deferral_tag() const noexcept { return deferral_tag_; }
  // A completion that came while the handler still ran (state handing_over).
  void hand_over(Outcome&& outcome, std::string&& result) {
    handed_.emplace(std::move(outcome));
    result_ = std::move(result);
  }
  Outcome take_handed_over() noexcept { return std::move(*handed_); }

  // Bytes of a result over the limit that the handler tried to set (0: none).
  std::size_t result_too_large() const noexcept { return too_large_; }
  std::string take_result() noexcept { return std::move(result_); }

 private:
  TaskRecord& record_;
  const TaskTypeEntry& type_;
  const Clock& clock_;
  const std::size_t max_result_bytes_;
  const BatchId batch_;
  DeferredSink& sink_;
  std::int64_t soft_deadline_ns_ = 0;
  std::uint64_t deferral_tag_ = 0;
  std::optional<Outcome> handed_;
  std::string result_;
  std::size_t too_large_ = 0;
};

}  // namespace brisk::detail
