#include "wal/fault_injection_env.hpp"

#include <random>
#include <thread>

namespace brisk::detail::wal {

class FaultInjectionEnv::File final : public WalFile {
 public:
  File(FaultInjectionEnv& env, std::string path, std::unique_ptr<WalFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status append(std::span<const std::string_view> pieces) override {
    if (Status s = env_.check(kFaultWrite, "write " + path_); !s) return s;
    std::uint64_t bytes = 0;
    for (const std::string_view p : pieces) bytes += p.size();
    Status s = base_->append(pieces);
    if (s) env_.on_appended(path_, bytes);
    return s;
  }

  Status sync() override {
    if (Status s = env_.check(kFaultSync, "fdatasync " + path_); !s) return s;
    Status s = base_->sync();
    if (s) env_.on_synced(path_);
    return s;
  }

  Status close() override { return base_->close(); }

 private:
  FaultInjectionEnv& env_;
  std::string path_;
  std::unique_ptr<WalFile> base_;
};

void FaultInjectionEnv::set_plan(const FaultPlan& plan) {
  std::lock_guard lock(mutex_);
  plan_ = plan;
  counted_ = 0;
}

std::uint64_t FaultInjectionEnv::counted_operations() const {
  std::lock_guard lock(mutex_);
  return counted_;
}

std::uint64_t FaultInjectionEnv::injected_faults() const {
  std::lock_guard lock(mutex_);
  return injected_;
}

void FaultInjectionEnv::set_delays(std::chrono::microseconds write_delay, std::chrono::microseconds sync_delay) {
  std::lock_guard lock(mutex_);
  write_delay_ = write_delay;
  sync_delay_ = sync_delay;
}

void FaultInjectionEnv::freeze() {
  std::lock_guard lock(mutex_);
  frozen_ = true;
}

Status FaultInjectionEnv::check(FaultOp op, const std::string& what) {
  std::chrono::microseconds delay{0};
  {
    std::lock_guard lock(mutex_);
    if (frozen_) return Status::from_errno(what + " (simulated crash)", EIO);
    if ((plan_.ops & op) != 0) {
      ++counted_;
      const bool fail = plan_.fail_at != 0 &&
                        (counted_ == plan_.fail_at || (plan_.persistent && counted_ > plan_.fail_at));
      if (fail) {
        ++injected_;
        return Status::from_errno(what + " (injected fault #" + std::to_string(counted_) + ")", plan_.error);
      }
    }
    if (op == kFaultWrite) delay = write_delay_;
    if (op == kFaultSync) delay = sync_delay_;
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  return Status::ok();
}

void FaultInjectionEnv::on_appended(const std::string& path, std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  files_[path].size += bytes;
}

void FaultInjectionEnv::on_synced(const std::string& path) {
  std::lock_guard lock(mutex_);
  Tracked& t = files_[path];
  t.synced_size = t.size;
}

Status FaultInjectionEnv::apply_crash(CrashMode mode, std::uint64_t seed) {
  std::lock_guard lock(mutex_);
  std::mt19937_64 rng(seed);
  constexpr std::uint64_t kSector = 512;
  for (const auto& [path, t] : files_) {
    if (!t.dir_synced) {
      // Its directory entry never reached the disk.
      Status s = base_.remove_file(path);
      if (!s && s.error_number() != ENOENT) return s;
      continue;
    }
    std::string contents;
    if (Status s = base_.read_file(path, &contents); !s) {
      if (s.error_number() == ENOENT) continue;  // removed since
      return s;
    }
    const std::uint64_t synced = std::min<std::uint64_t>(t.synced_size, contents.size());
    const std::uint64_t unsynced = contents.size() - synced;
    std::uint64_t keep = synced;
    switch (mode) {
      case CrashMode::drop_unsynced: break;
      case CrashMode::tear_unsynced: keep = synced + (unsynced == 0 ? 0 : rng() % (unsynced + 1)); break;
      case CrashMode::scramble_unsynced: {
        keep = synced + (unsynced == 0 ? 0 : rng() % (unsynced + 1));
        for (std::uint64_t at = synced; at < keep; at += kSector) {
          const std::uint64_t end = std::min(keep, at + kSector);
          switch (rng() % 3) {
            case 0: break;  // this sector made it
            case 1: std::fill(contents.begin() + static_cast<std::ptrdiff_t>(at),
                              contents.begin() + static_cast<std::ptrdiff_t>(end), '\0');
                    break;
            default:
              for (std::uint64_t i = at; i < end; ++i) contents[i] = static_cast<char>(rng());
          }
        }
        break;
      }
    }
    contents.resize(keep);
    std::unique_ptr<WalFile> out;
    if (Status s = base_.new_file(path, &out); !s) return s;
    const std::string_view piece = contents;
    if (Status s = out->append({&piece, 1}); !s) return s;
    if (Status s = out->sync(); !s) return s;
    if (Status s = out->close(); !s) return s;
  }
  files_.clear();
  frozen_ = false;
  return Status::ok();
}

Status FaultInjectionEnv::create_dir(const std::string& dir) { return base_.create_dir(dir); }

Status FaultInjectionEnv::new_file(const std::string& path, std::unique_ptr<WalFile>* file) {
  if (Status s = check(kFaultOpen, "open " + path); !s) return s;
  std::unique_ptr<WalFile> base;
  if (Status s = base_.new_file(path, &base); !s) return s;
  {
    std::lock_guard lock(mutex_);
    files_[path] = Tracked{};
  }
  *file = std::make_unique<File>(*this, path, std::move(base));
  return Status::ok();
}

Status FaultInjectionEnv::read_file(const std::string& path, std::string* contents) {
  if (Status s = check(kFaultRead, "read " + path); !s) return s;
  return base_.read_file(path, contents);
}

Status FaultInjectionEnv::list_dir(const std::string& dir, std::vector<std::string>* names) {
  if (Status s = check(kFaultList, "opendir " + dir); !s) return s;
  return base_.list_dir(dir, names);
}

Status FaultInjectionEnv::remove_file(const std::string& path) {
  if (Status s = check(kFaultRemove, "unlink " + path); !s) return s;
  Status s = base_.remove_file(path);
  if (s) {
    std::lock_guard lock(mutex_);
    files_.erase(path);
  }
  return s;
}

Status FaultInjectionEnv::rename_file(const std::string& from, const std::string& to) {
  if (Status s = check(kFaultRename, "rename " + from); !s) return s;
  Status s = base_.rename_file(from, to);
  if (s) {
    // Modelled as durable at once: a crash never undoes a rename here.
    std::lock_guard lock(mutex_);
    if (auto it = files_.find(from); it != files_.end()) {
      files_[to] = it->second;
      files_.erase(it);
    }
  }
  return s;
}

Status FaultInjectionEnv::truncate_file(const std::string& path, std::uint64_t size) {
  if (Status s = check(kFaultTruncate, "truncate " + path); !s) return s;
  Status s = base_.truncate_file(path, size);
  if (s) {
    std::lock_guard lock(mutex_);
    if (auto it = files_.find(path); it != files_.end()) {
      it->second.size = std::min(it->second.size, size);
      it->second.synced_size = it->second.size;
    }
  }
  return s;
}

Status FaultInjectionEnv::sync_dir(const std::string& dir) {
  if (Status s = check(kFaultSyncDir, "fsync " + dir); !s) return s;
  Status s = base_.sync_dir(dir);
  if (s) {
    std::lock_guard lock(mutex_);
    const std::string prefix = join_path(dir, "");
    for (auto& [path, t] : files_) {
      if (path.starts_with(prefix)) t.dir_synced = true;
    }
  }
  return s;
}

}  // namespace brisk::detail::wal
