// wal_seeds: writes the wal_reader fuzzer's seed corpus, in the input format
// wal_reader_fuzz.cpp documents (a flags byte, then u32-length-prefixed
// files). Each seed is a small log the reader must handle, valid or damaged
// in one known way; the fuzzer mutates from there. Run it again whenever the
// record format changes (old seeds would only exercise the version check):
//
//   cmake --build --preset fuzz --target wal_seeds && build/fuzz/fuzz/wal_seeds fuzz/corpus/wal_reader
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "wal/coding.hpp"
#include "wal/file_builder.hpp"

namespace wal = brisk::detail::wal;

namespace {

wal::TaskImage task(std::uint64_t id, std::string key = {}) {
  wal::TaskImage t;
  t.id = id;
  t.type_name = "job";
  t.payload = std::string(16, static_cast<char>('a' + id % 26));
  t.idempotency_key = std::move(key);
  t.submit_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(id);
  return t;
}

// Records lsn .. lsn+9 of every type a segment holds, in a plausible order.
wal::FileBuilder segment(std::uint32_t number, std::uint64_t lsn) {
  wal::FileBuilder b(wal::FileKind::segment, number, lsn);
  const std::uint64_t id = lsn;
  b.add(lsn++, task(id, "key-" + std::to_string(id)));
  b.add(lsn++, task(id + 1));
  b.add(lsn++, task(id + 2));
  b.add(lsn++, wal::TaskCompleted{{id + 1, id}});
  b.add(lsn++, wal::TaskRetryScheduled{id + 2, 1, 1'700'000'001'000'000'000});
  b.add(lsn++, wal::TaskDeadLettered{id + 2, 2, {{1'700'000'000'500'000'000, 1, "boom"}}});
  b.add(lsn++, wal::DlqReplayed{id + 2});
  b.add(lsn++, wal::DlqDropped{id + 2});
  b.add(lsn++, wal::TaskCancelled{id + 3});
  b.add(lsn++, wal::DlqPurged{});
  return b;
}

void save(const std::string& dir, const std::string& name, bool checkpoint_first, const std::vector<std::string>& files) {
  std::string input(1, checkpoint_first ? '\x01' : '\x00');
  for (const std::string& f : files) {
    char length[4];
    wal::store_u32(length, static_cast<std::uint32_t>(f.size()));
    input.append(length, 4).append(f);
  }
  std::ofstream(dir + "/" + name, std::ios::binary) << input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: wal_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string first = segment(1, 1).bytes();
  const std::string second = segment(2, 11).bytes();
  save(dir, "two_segments", false, {first, second});
  save(dir, "torn_tail", false, {first.substr(0, first.size() - 3)});
  save(dir, "zero_tail", false, {first + std::string(64, '\0')});
  save(dir, "missing_sequences", false, {first, segment(2, 13).bytes()});

  // A sync mark after the first records, then a flipped bit in synced data.
  wal::FileBuilder marked(wal::FileKind::segment, 1, 1);
  marked.add(1, task(1));
  marked.add(0, wal::SyncMark{marked.bytes().size()});
  marked.add(2, task(2));
  std::string flipped = marked.bytes();
  flipped[wal::kFileHeaderSize + wal::kRecordHeaderSize + 4] ^= 0x10;
  save(dir, "bit_flip_before_sync_mark", false, {flipped});

  wal::FileBuilder checkpoint(wal::FileKind::checkpoint, 1, 1);
  checkpoint.add(1, task(3));
  checkpoint.add(2, wal::KeyRetained{"key-1", 1, 1'700'000'000'000'000'001});
  checkpoint.add(3, wal::CheckpointEnd{1, 10, 3});
  save(dir, "checkpoint_then_segment", true, {checkpoint.bytes(), segment(2, 11).bytes()});
  return 0;
}
