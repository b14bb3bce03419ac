#include "wal/compactor.hpp"

#include <time.h>

namespace brisk::detail::wal {

Compactor::Compactor(WalEnv& env, std::string dir, std::uint32_t every, std::int64_t key_retention_ns,
                     std::function<std::int64_t()> clock_ns)
    : env_(env),
      dir_(std::move(dir)),
      every_(every),
      key_retention_ns_(key_retention_ns),
      clock_ns_(std::move(clock_ns)) {}

Compactor::~Compactor() { stop(); }

KeyRetention Compactor::retention() const {
  if (clock_ns_) return {key_retention_ns_, clock_ns_()};
  // CLOCK_REALTIME: what stamps submissions by default, and it survives a restart.
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return {key_retention_ns_, static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec};
}

void Compactor::start(std::uint32_t folded_through) {
  folded_through_ = folded_through;
  thread_ = std::thread([this] { run(); });
}

void Compactor::segment_closed(std::uint32_t closed) {
  if (every_ == 0) return;
  std::lock_guard lock(mutex_);
  if (closed - folded_through_ >= every_) {
    fold_through_ = closed;
    wakeup_.notify_one();
  }
}

Status Compactor::compact_now(std::uint32_t through, CompactionResult* result) {
  CompactionResult local;
  std::lock_guard lock(fold_mutex_);
  Status s = through == 0 ? Status::ok() : compact(env_, dir_, through, retention(), &local);
  if (s && local.checkpoint != 0) ++checkpoints_;
  if (result != nullptr) *result = local;
  return s;
}

void Compactor::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wakeup_.wait(lock, [this] { return stop_ || fold_through_ > folded_through_; });
    if (stop_) return;
    const std::uint32_t through = fold_through_;
    lock.unlock();
    {
      std::lock_guard fold(fold_mutex_);
      CompactionResult result;
      last_compaction_ = compact(env_, dir_, through, retention(), &result);
      if (last_compaction_ && result.checkpoint != 0) ++checkpoints_;
    }
    lock.lock();
    folded_through_ = through;
  }
}

void Compactor::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wakeup_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t Compactor::checkpoints() const {
  std::lock_guard lock(fold_mutex_);
  return checkpoints_;
}

Status Compactor::last_compaction() const {
  std::lock_guard lock(fold_mutex_);
  return last_compaction_;
}

}  // namespace brisk::detail::wal
