#include "wal/checkpoint.hpp"

#include "wal/file_builder.hpp"

namespace brisk::detail::wal {
namespace {

constexpr std::string_view kTemporarySuffix = ".tmp";

}  // namespace

Status write_checkpoint(WalEnv& env, const std::string& dir, const StateBuilder& builder, const CheckpointEnd& end,
                        const KeyRetention& retention, std::uint64_t* bytes_written) {
  FileBuilder file(FileKind::checkpoint, end.through_segment, 1);
  std::uint64_t sequence = 1;
  // Each batch not done, with the counts of its members that finished in
  // the files folded (they are gone from it) and the callbacks submitted.
  for (const TaskImage* batch : builder.batches_in_order()) file.add(sequence++, *batch);
  for (const TaskImage* task : builder.incomplete_in_order()) file.add(sequence++, *task);
  for (const StateBuilder::Dead* dead : builder.dead_in_order()) {
    file.add(sequence++, dead->image);
    file.add(sequence++, dead->letter);
  }
  for (const IdempotencyKey& k : builder.keys(retention)) file.add(sequence++, KeyRetained{k.key, k.id, k.accepted_ns});
  file.add(sequence, end);

  const std::string name = file_name(FileKind::checkpoint, end.through_segment);
  const std::string temporary = join_path(dir, name + std::string(kTemporarySuffix));
  std::unique_ptr<WalFile> out;
  if (Status s = env.new_file(temporary, &out); !s) return s;
  const std::string_view bytes = file.bytes();
  Status s = out->append({&bytes, 1});
  if (s) s = out->sync();
  if (Status c = out->close(); s) s = c;
  if (s) s = env.rename_file(temporary, join_path(dir, name));
  if (!s) {
    env.remove_file(temporary);  // best effort: a leftover is ignored and removed at the next open
    return s;
  }
  if (bytes_written != nullptr) *bytes_written = bytes.size();
  return env.sync_dir(dir);
}

Status compact(WalEnv& env, const std::string& dir, std::uint32_t through_segment, const KeyRetention& retention,
               CompactionResult* result) {
  StateBuilder builder;
  const ReadReport report = read_into(env, dir, {RecoveryMode::absolute_consistency, through_segment}, &builder);
  if (!report.status) return report.status;
  if (report.files.empty() || report.files.back().kind != FileKind::segment) return Status::ok();  // nothing new
  const CheckpointEnd end{report.files.back().number, report.last_sequence, builder.max_task_id()};
  *result = CompactionResult{};
  result->bytes_before = report.bytes;
  if (Status s = write_checkpoint(env, dir, builder, end, retention, &result->bytes_after); !s) return s;
  result->checkpoint = end.through_segment;
  result->incomplete_tasks = builder.incomplete_in_order().size();
  result->dead_letters = builder.dead_in_order().size();
  result->keys = builder.keys(retention).size();
  // The new checkpoint is durable and covers all of these: removing them can
  // fail or be cut short by a crash without losing anything.
  std::vector<std::string> replaced = report.obsolete_files;
  for (const FileSummary& f : report.files) replaced.push_back(f.name);
  for (const std::string& name : replaced) {
    if (Status s = env.remove_file(join_path(dir, name)); !s) return s;
  }
  return env.sync_dir(dir);
}

Status remove_temporary_files(WalEnv& env, const std::string& dir) {
  std::vector<std::string> names;
  if (Status s = env.list_dir(dir, &names); !s) return s;
  for (const std::string& name : names) {
    if (name.starts_with("checkpoint-") && name.ends_with(kTemporarySuffix)) {
      if (Status s = env.remove_file(join_path(dir, name)); !s) return s;
    }
  }
  return Status::ok();
}

}  // namespace brisk::detail::wal
