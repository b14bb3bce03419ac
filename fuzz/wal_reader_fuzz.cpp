// libFuzzer target: the WAL reader and recovery fold on arbitrary bytes.
//
// Input: one flags byte (bit 0: the first file is a checkpoint), then up to
// four files, each a u32 little-endian length and that many bytes (the last
// one takes what is left). They are written as wal-000001.log, ... (or
// checkpoint-000001.log first) and read in every recovery mode. The reader
// must never crash, hang or read out of bounds, and every record it returns
// must re-encode to a payload that decodes again.
//
//   cmake --preset fuzz && cmake --build --preset fuzz --target wal_reader_fuzz
//   build/fuzz/fuzz/wal_reader_fuzz fuzz/corpus/wal_reader -max_total_time=60   # CI
//   build/fuzz/fuzz/wal_reader_fuzz fuzz/corpus/wal_reader -jobs=2              # for long
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "wal/coding.hpp"
#include "wal/log_reader.hpp"
#include "wal/recovery.hpp"

namespace wal = brisk::detail::wal;

namespace {

// A directory for the files of one input, removed when the fuzzer exits.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = std::filesystem::exists("/dev/shm") ? "/dev/shm/brisk-wal-fuzz-XXXXXX" : "/tmp/brisk-wal-fuzz-XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) std::abort();
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

void write(const std::string& path, std::string_view bytes) {
  std::unique_ptr<wal::WalFile> f;
  if (!wal::WalEnv::posix().new_file(path, &f)) std::abort();
  f->append({&bytes, 1});
  f->close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const ScratchDir scratch;
  const std::string& dir = scratch.path();
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove(e.path());

  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool checkpoint_first = (data[0] & 1) != 0;
  for (std::uint32_t number = 1; number <= 4 && !in.empty(); ++number) {
    std::size_t n = in.size();
    if (number < 4 && in.size() >= 4) {
      n = std::min<std::size_t>(wal::load_u32(in.data()), in.size() - 4);
      in.remove_prefix(4);
    }
    const auto kind = number == 1 && checkpoint_first ? wal::FileKind::checkpoint : wal::FileKind::segment;
    write(dir + "/" + wal::file_name(kind, number), in.substr(0, n));
    in.remove_prefix(n);
  }

  for (const auto mode : {wal::RecoveryMode::tolerate_corrupted_tail_records, wal::RecoveryMode::absolute_consistency,
                          wal::RecoveryMode::point_in_time, wal::RecoveryMode::skip_any_corrupted_record}) {
    wal::read_log(wal::WalEnv::posix(), dir, {mode, 0}, [](const wal::RecordView& v) {
      std::string payload;
      wal::encode(payload, v.event);
      wal::Event again;
      if (!wal::decode(v.type, payload, &again).empty()) std::abort();
    });
    wal::RecoveredState state;
    (void)wal::recover(wal::WalEnv::posix(), dir, {mode, {}}, &state);
  }
  return 0;
}
