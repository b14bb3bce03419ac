// Torn writes and bit flips at random offsets of a real log: recovery never
// crashes, and every record it hands back is one the writer wrote, at the
// sequence number it was written with. Randomised: prints its seed, and
// BRISK_TEST_SEED=<n> replays it.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "support/test_seed.hpp"
#include "wal/log_writer.hpp"
#include "wal_test_support.hpp"

namespace wal = brisk::detail::wal;
namespace fs = std::filesystem;

namespace {

using Original = std::map<std::pair<std::string, std::uint64_t>, std::string>;  // (file kind, sequence) -> record

std::string key_kind(const wal::FileSummary& f) { return f.kind == wal::FileKind::checkpoint ? "checkpoint" : "segment"; }

// A log of a few segments behind a checkpoint, with every record type.
void write_log(const std::string& dir) {
  wal::WalOptions o;
  o.dir = dir;
  o.fsync = wal::FsyncPolicy::never;
  o.segment_bytes = 3000;
  o.checkpoint_every_segments = 0;
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  ASSERT_TRUE(wal::Wal::open(o, &log, &state));
  for (brisk::TaskId id = 1; id <= 120; ++id) {
    log->append(wal::as_ref(brisk::test::sample_task(id, id % 7 == 0 ? "key" + std::to_string(id) : "")));
    if (id % 4 == 0) log->append(wal::TaskCompleted{{id - 2}});
    if (id % 9 == 0) log->append(wal::TaskRetryScheduled{id, 2, 77});
    if (id % 11 == 0) log->append(wal::TaskDeadLettered{id - 1, 3, {{1, 1, "boom"}}});
    if (id % 13 == 0) log->append(wal::DlqReplayed{id - 3});
    if (id == 40) {
      ASSERT_TRUE(log->sync());
      ASSERT_TRUE(log->compact());
    }
  }
  ASSERT_TRUE(log->close());
}

Original read_original(const std::string& dir) {
  Original original;
  const wal::ReadReport r = wal::read_log(wal::WalEnv::posix(), dir, {wal::RecoveryMode::absolute_consistency, 0},
                                          [&](const wal::RecordView& v) {
                                            if (v.sequence != 0) original[{key_kind(v.file), v.sequence}] = wal::describe(v.event);
                                          });
  EXPECT_TRUE(r.status) << r.summary();
  return original;
}

void copy_dir(const std::string& from, const std::string& to) {
  for (const auto& e : fs::directory_iterator(to)) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(from)) fs::copy_file(e.path(), to + "/" + e.path().filename().string());
}

}  // namespace

TEST(WalDamage, RandomBitFlipsAndTornWritesNeverYieldABadRecord) {
  const std::uint64_t seed = brisk::test::test_seed();
  std::mt19937_64 rng(seed);
  brisk::test::TempDir pristine;
  write_log(pristine.path());
  const Original original = read_original(pristine.path());
  ASSERT_GT(original.size(), 100u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(pristine.path())) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_GE(names.size(), 3u);

  brisk::test::TempDir work;
  std::map<std::string, int> outcomes;
  for (int round = 0; round < 300; ++round) {
    copy_dir(pristine.path(), work.path());
    const std::string victim = work.file(names[rng() % names.size()]);
    std::string bytes = brisk::test::read_file(victim);
    const int damage = static_cast<int>(rng() % 4);
    if (bytes.empty()) continue;
    const std::size_t at = rng() % bytes.size();
    switch (damage) {
      case 0: bytes[at] ^= static_cast<char>(1u << (rng() % 8)); break;           // one bit
      case 1: bytes.resize(at); break;                                             // torn write
      case 2: for (std::size_t i = at; i < std::min(bytes.size(), at + rng() % 600); ++i) bytes[i] = static_cast<char>(rng()); break;
      default: for (std::size_t i = at; i < bytes.size(); ++i) bytes[i] = 0; break;  // zero-filled tail
    }
    brisk::test::write_file(victim, bytes);
    for (const auto mode : {wal::RecoveryMode::tolerate_corrupted_tail_records, wal::RecoveryMode::absolute_consistency,
                            wal::RecoveryMode::point_in_time, wal::RecoveryMode::skip_any_corrupted_record}) {
      const wal::ReadReport r = wal::read_log(wal::WalEnv::posix(), work.path(), {mode, 0}, [&](const wal::RecordView& v) {
        if (v.sequence == 0) return;
        const auto it = original.find({key_kind(v.file), v.sequence});
        ASSERT_NE(it, original.end()) << "seed " << seed << " round " << round << ": invented sequence " << v.sequence;
        EXPECT_EQ(wal::describe(v.event), it->second) << "seed " << seed << " round " << round;
      });
      outcomes[std::string(to_string(mode)) + (r.status ? " ok" : " refused")]++;
      // And the fold over it never falls over either.
      wal::RecoveredState state;
      (void)wal::recover(wal::WalEnv::posix(), work.path(), {mode, {}}, &state);
    }
  }
  for (const auto& [what, count] : outcomes) std::printf("  %-40s %d\n", what.c_str(), count);
}
