#include "brisk/wal_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "wal/log_reader.hpp"
#include "wal/recovery.hpp"

namespace brisk::tools {
namespace {

namespace wal = brisk::detail::wal;

struct WalCommandOptions {
  std::string dir;
  std::string mode = std::string(wal::to_string(wal::RecoveryMode::tolerate_corrupted_tail_records));
};

wal::RecoveryMode mode_of(const WalCommandOptions& o) {
  // CLI11's check already limited the text to the four names.
  return *wal::parse_recovery_mode(o.mode);
}

// Per file: kind, size, sequence range, record counts by type, damage.
int run_inspect(const WalCommandOptions& o) {
  std::map<std::string, std::map<std::string, std::uint64_t>> counts;
  const wal::ReadReport r = wal::read_log(wal::WalEnv::posix(), o.dir, {mode_of(o), 0}, [&](const wal::RecordView& v) {
    ++counts[v.file.name][std::string(wal::to_string(v.type))];
  });
  for (const wal::FileSummary& f : r.files) {
    std::printf("%s  %s  %llu bytes  sequences %llu..%llu  %llu records%s\n", f.name.c_str(),
                f.kind == wal::FileKind::checkpoint ? "checkpoint" : "segment", static_cast<unsigned long long>(f.size),
                static_cast<unsigned long long>(f.first_sequence), static_cast<unsigned long long>(f.last_sequence),
                static_cast<unsigned long long>(f.records), f.damaged ? "  DAMAGED" : "");
    for (const auto& [type, n] : counts[f.name]) std::printf("    %-22s %llu\n", type.c_str(), static_cast<unsigned long long>(n));
  }
  for (const std::string& f : r.obsolete_files) std::printf("%s  obsolete (covered by the checkpoint)\n", f.c_str());
  std::printf("%s\n", r.summary().c_str());
  return r.status ? 0 : 1;
}

// Exit 0 only for a log with no damage at all; otherwise name every problem,
// and the dead letters it costs (folded as a start would).
int run_verify(const WalCommandOptions& o) {
  wal::StateBuilder state;
  const wal::ReadReport r = wal::read_into(wal::WalEnv::posix(), o.dir, {mode_of(o), 0}, &state);
  std::printf("%s\n", r.summary().c_str());
  if (!r.status) return 1;
  if (r.files.empty() && r.dropped_files.empty()) {
    // Nothing to verify is not a clean log: most likely a mistyped --dir.
    std::printf("refused: no log files in %s (expected wal-NNNNNN.log or checkpoint-NNNNNN.log): "
                "not a brisk write-ahead log directory\n",
                o.dir.c_str());
    return 1;
  }
  if (!r.damage.empty()) {
    std::printf("damage found: recovery in mode %s would drop %llu bytes\n", o.mode.c_str(),
                static_cast<unsigned long long>(r.damaged_bytes()));
    for (const brisk::TaskId id : state.orphan_dead_letters()) {
      std::printf("dead letter for durable task %llu: its submit record was lost to damage; name and payload "
                  "unknown, would not be restored\n",
                  static_cast<unsigned long long>(id));
    }
    return 2;
  }
  std::printf("OK\n");
  return 0;
}

// One line per record: file, offset, sequence, type, fields.
int run_dump(const WalCommandOptions& o) {
  const wal::ReadReport r = wal::read_log(wal::WalEnv::posix(), o.dir, {mode_of(o), 0}, [](const wal::RecordView& v) {
    std::printf("%s@%llu  seq=%llu  %s  %s\n", v.file.name.c_str(), static_cast<unsigned long long>(v.offset),
                static_cast<unsigned long long>(v.sequence), std::string(wal::to_string(v.type)).c_str(),
                wal::describe(v.event).c_str());
  });
  std::fprintf(stderr, "%s\n", r.summary().c_str());
  return r.status ? 0 : 1;
}

}  // namespace

void add_wal_commands(CLI::App& app) {
  CLI::App* wal_cmd = app.add_subcommand("wal", "Inspect, verify or dump a write-ahead log directory");
  wal_cmd->require_subcommand(1);
  // Shared by the three children; lives as long as the program.
  auto options = std::make_shared<WalCommandOptions>();
  const auto add = [&](const char* name, const char* help, int (*run)(const WalCommandOptions&)) {
    CLI::App* cmd = wal_cmd->add_subcommand(name, help);
    cmd->add_option("--dir", options->dir, "The log directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--mode", options->mode, "Recovery mode to read with")
        ->check(CLI::IsMember({"tolerate_corrupted_tail_records", "absolute_consistency", "point_in_time",
                               "skip_any_corrupted_record"}));
    cmd->callback([options, run] { std::exit(run(*options)); });
  };
  add("inspect", "Files, sequence ranges, record counts by type, damage", run_inspect);
  add("verify", "Check every record; exit 0 clean, 1 refused (or no log files), 2 damage the mode would cut or skip",
      run_verify);
  add("dump", "Print every record, one per line", run_dump);
}

}  // namespace brisk::tools
