// brisk_model: a model-based test of what the engine tells its caller
// against what its write-ahead log brings back (issue 19).
//
// A parent process holds the model; the engine runs in a forked child that
// executes one operation at a time and answers each through a pipe, so the
// model holds only what a caller was told. The parent generates random
// operations (submits accepted and refused, with and without keys, delayed,
// durable and memory-only, before and after start(); cancel; dead-letter
// list, replay and purge; a forged wait_durable ticket; a clean shutdown),
// SIGKILLs the child at random points (between two operations, or while one
// is in flight), starts a new child on the same log and checks after every
// recovery:
//   * a task refused (any answer but accepted) never runs, in any life;
//   * a task whose cancel() returned true never runs after that;
//   * every acknowledged task (accepted, and wait_durable true or a clean
//     shutdown since) that was not cancelled runs at least once;
//   * a memory-only task never runs in a later life;
//   * a key answered accepted is answered `duplicate` for as long as its
//     acceptance is acknowledged, with the id the caller was told (after a
//     restart: one stable id, the task's durable id when it is known);
//   * the dead letters listed are exactly the ones expected: nothing refused
//     or cancelled, nothing replayed, purged or dropped comes back, nothing
//     acknowledged goes missing unless `dead_letter_capacity` newer letters
//     pushed it out;
//   * a durable submission answered accepted is made durable
//     (wait_durable true), before start() too;
//   * wait_durable on a ticket the engine never issued returns.
//
//   brisk_model --cycles 30 --steps 40 --seed 7 --dir /tmp/m   (a seed replays the same choices)
//
// Files in --dir: wal/ (the log), ran.log (one line per handler call,
// appended with O_APPEND by the handler before it returns), trace.txt (every
// operation and answer, written when a check fails).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t kDeadLetterCapacity = 3;
constexpr std::uint32_t kRetryAttempts = 2;

// ---------------------------------------------------------------- pipes --

// Writes one whole line with one write(): the reader sees all of it or,
// if the writer is killed first, none of it.
bool write_line(int fd, std::string line) {
  line += '\n';
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // A whole line, or nullopt on end of file, error or timeout (ms < 0: none).
  std::optional<std::string> next(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (timeout_ms >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return std::nullopt;
      }
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  void clear() { buffer_.clear(); }

 private:
  int fd_;
  std::string buffer_;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string no_spaces(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == ' ' || c == '|' || c == ':' || c == '\n') c = '_';
  }
  return out.empty() ? "-" : out;
}

// ---------------------------------------------------------------- child --

// Handlers of the "block" type wait here while it is closed, so that the
// one worker stays busy and the rings fill.
class Gate {
 public:
  void set(bool open) {
    std::lock_guard lock(mutex_);
    open_ = open;
    cv_.notify_all();
  }
  bool is_open() {
    std::lock_guard lock(mutex_);
    return open_;
  }
  void pass() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

const char* type_name(char t) {
  switch (t) {
    case 'o': return "ok";
    case 'f': return "fail";
    case 'b': return "block";
    default: return "retry";
  }
}

std::string listing(const brisk::Engine& engine) {
  std::string out = "L";
  for (const brisk::DeadLetter& l : engine.dead_letters()) {
    out += " " + std::to_string(l.id) + ":" + std::to_string(l.durable_id) + ":" + no_spaces(l.payload) + ":" +
           no_spaces(l.name) + ":" + std::to_string(l.attempts);
  }
  return out;
}

std::string answer_of(const brisk::Engine& engine, const brisk::SubmitResult& r, char durability, bool started) {
  // Durable (what the caller asked for) and accepted: wait until it is on
  // disk, as a caller would before acknowledging it.
  std::string waited = "-";
  if (r.accepted() && durability != 'm' && started) waited = engine.wait_durable(r) ? "1" : "0";
  return "S " + std::string(brisk::to_string(r.status)) + " " + std::to_string(r.id) + " " +
         std::to_string(r.durable_ticket) + " " + waited + " " + (engine.stats().wal_failed ? "1" : "0") + " " +
         no_spaces(r.reason);
}

// --inject: the child misreports on purpose, as the defects of issue 19
// did, to show that the model catches each kind (a test of the test).
enum class Inject { none, refused_but_kept, cancel_ignored, purge_ignored, ack_lost };

int child_main(const fs::path& dir, int in_fd, int out_fd, Inject inject) {
  unsigned injected = 0;
  brisk::EngineConfig config;
  config.workers = 1;
  config.pin_workers = false;
  config.ring_capacity = 2;
  config.spin_polls = 50;
  config.max_named_tasks = 8;
  config.dead_letter_capacity = kDeadLetterCapacity;
  config.durability.wal_dir = (dir / "wal").string();
  config.durability.fsync = brisk::FsyncPolicy::always;
  config.durability.segment_bytes = 8 << 10;  // rotate and compact often
  brisk::Engine engine(config);
  Gate gate;
  const int ran_fd = ::open((dir / "ran.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (ran_fd < 0) return 3;
  std::mutex started_mutex;
  std::set<brisk::TaskId> started_ids;  // for --inject cancel-ignored
  auto record_run = [ran_fd, &started_mutex, &started_ids](brisk::TaskContext& t) {
    {
      std::lock_guard lock(started_mutex);
      started_ids.insert(t.id());
    }
    const std::string line = std::string(t.payload()) + " " + std::to_string(t.id()) + " " +
                             std::to_string(t.attempt()) + "\n";
    if (::write(ran_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::_Exit(4);
  };
  engine.register_task("ok", [&](brisk::TaskContext& t) { record_run(t); });
  engine.register_task("fail", [&](brisk::TaskContext& t) {
    record_run(t);
    return brisk::Outcome::fail("always fails");
  });
  engine.register_task("block", [&](brisk::TaskContext& t) {
    record_run(t);
    gate.pass();
  });
  brisk::TaskTypeOptions retry_options;
  retry_options.retry.max_attempts = kRetryAttempts;
  retry_options.retry.base = 5ms;
  retry_options.retry.cap = 5ms;
  engine.register_task("retry", [&](brisk::TaskContext& t) {
    record_run(t);
    return brisk::Outcome::retry("fails every attempt");
  }, retry_options);

  bool started = false;
  std::vector<std::pair<brisk::SubmitResult, char>> before_start;
  // Nothing accepted is due after this (delays are at most 250 ms; after a
  // recovery, the recovered tasks' delays began before it).
  auto latest_due = std::chrono::steady_clock::now();
  // Open the gate and wait until every task accepted so far is final;
  // answers "Z ok <ran.log size then>".
  auto settle = [&]() -> std::string {
    const bool was_open = gate.is_open();
    gate.set(true);
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    std::string answer;
    for (;;) {
      engine.drain();
      const brisk::EngineStats st = engine.stats();
      if (st.named_in_flight == 0 && st.pending_timers == 0 && std::chrono::steady_clock::now() >= latest_due) {
        engine.drain();
        struct stat info {};
        ::fstat(ran_fd, &info);
        answer = "Z ok " + std::to_string(info.st_size);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        answer = "Z stuck in_flight=" + std::to_string(st.named_in_flight) +
                 " timers=" + std::to_string(st.pending_timers);
        break;
      }
      std::this_thread::sleep_for(2ms);
    }
    gate.set(was_open);
    return answer;
  };

  LineReader in(in_fd);
  for (;;) {
    const std::optional<std::string> line = in.next(-1);
    if (!line) return 0;
    const std::vector<std::string> w = words(*line);
    if (w.empty()) continue;
    const std::string& op = w[0];
    std::string answer;
    if (op == "submit") {
      // submit <payload> <type> <durability e|d|m> <delay_ms> <key|->
      brisk::TaskOptions o;
      o.durability = w[3] == "d" ? brisk::Durability::durable
                     : w[3] == "m" ? brisk::Durability::memory
                                   : brisk::Durability::engine_default;
      o.delay = std::chrono::milliseconds(std::stoi(w[4]));
      if (w[5] != "-") o.idempotency_key = w[5];
      if (inject == Inject::ack_lost && started && w[3] != "m" && ++injected % 4 == 0) {
        // Acknowledged durable without ever reaching the engine.
        write_line(out_fd, "S accepted " + std::to_string(0xabc00000000ull + injected) + " 999 1 0 -");
        continue;
      }
      brisk::SubmitResult r = engine.submit(type_name(w[2][0]), w[1], o);
      if (inject == Inject::refused_but_kept && started && r.accepted() && w[3] != "m" && ++injected % 3 == 0) {
        engine.wait_durable(r);  // logged, and told "rings full": issue 19, item 1
        r.status = brisk::SubmitStatus::rejected_full;
        r.id = 0;
        r.durable_ticket = 0;
        r.reason = "rings full";
      }
      if (r.accepted()) latest_due = std::max(latest_due, std::chrono::steady_clock::now() + o.delay + 20ms);
      if (!started && r.accepted() && w[3][0] != 'm') before_start.emplace_back(r, w[3][0]);
      answer = answer_of(engine, r, w[3][0], started);
    } else if (op == "cancel") {
      bool has_run = false;
      {
        std::lock_guard lock(started_mutex);
        has_run = started_ids.count(std::stoull(w[1])) != 0;
      }
      if (inject == Inject::cancel_ignored && !has_run && ++injected % 2 == 0) {
        answer = "C 1";  // told cancelled, and it runs all the same: issue 19, item 2
      } else {
        answer = std::string("C ") + (engine.cancel(std::stoull(w[1])) ? "1" : "0");
      }
    } else if (op == "start") {
      try {
        engine.start();
        started = true;
        latest_due = std::max(latest_due, std::chrono::steady_clock::now() + 300ms);
        const brisk::RecoveryReport& rep = engine.recovery_report();
        answer = "T ok " + std::to_string(rep.tasks_requeued) + " " + std::to_string(rep.dead_letters_restored) +
                 " " + std::to_string(rep.keys_restored);
        // Durable submissions accepted before start(): durable now?
        for (const auto& [r, d] : before_start) {
          answer += " " + std::to_string(r.id) + ":" + (engine.wait_durable(r) ? "1" : "0");
        }
      } catch (const std::exception& e) {
        answer = "T fail " + no_spaces(e.what());
      }
    } else if (op == "settle") {
      answer = settle();
    } else if (op == "list") {
      const std::string settled = settle();  // before the listing: operands of + are unsequenced
      answer = settled + " | " + listing(engine);
    } else if (op == "replay") {
      const std::string settled = settle();
      const std::string before = listing(engine);
      const brisk::SubmitResult r = engine.replay_dead_letter(std::stoull(w[1]));
      answer = settled + " | " + before + " | " + answer_of(engine, r, 'e', started);
    } else if (op == "purge") {
      const std::string settled = settle();
      const std::string before = listing(engine);
      const std::size_t n =
          inject == Inject::purge_ignored ? engine.dead_letter_count() : engine.purge_dead_letters();
      answer = settled + " | " + before + " | P " + std::to_string(n);
    } else if (op == "gate") {
      gate.set(w[1] == "1");
      answer = "G ok";
    } else if (op == "waitforged") {
      brisk::SubmitResult forged;
      forged.status = brisk::SubmitStatus::accepted;
      forged.id = 1;
      forged.durable_ticket = std::stoull(w[1]);
      auto done = std::make_shared<std::promise<bool>>();
      std::future<bool> f = done->get_future();
      std::thread([&engine, forged, done] { done->set_value(engine.wait_durable(forged)); }).detach();
      if (f.wait_for(3s) == std::future_status::ready) {
        answer = std::string("W ") + (f.get() ? "1" : "0");
      } else {
        write_line(out_fd, "W hung");
        std::_Exit(0);  // a thread is stuck in the engine: nothing more to learn from this life
      }
    } else if (op == "shutdown") {
      gate.set(true);
      engine.shutdown();
      write_line(out_fd, "X ok");
      std::_Exit(0);  // the engine is shut down; skip its destructor's second look
    } else {
      answer = "? " + op;
    }
    if (!write_line(out_fd, answer)) return 0;
  }
}

// ---------------------------------------------------------------- model --

enum class Answer { unknown, accepted, refused, duplicate };

struct Event {  // something the caller was told, and when
  bool set = false;
  int life = 0;
  long op = 0;              // global operation number
  std::size_t offset = 0;   // ran.log size when it was told
};

struct Lineage {  // one submission and the tasks replays made of it (same payload)
  std::string payload;
  char type = 'o';
  bool memory = false;      // Durability::memory
  std::string key;
  int delay_ms = 0;
  bool pre_start = false;
  long op = 0;
  Answer answer = Answer::unknown;
  std::string status;
  // The submission as answered (what its key refers to).
  int sub_life = 0;
  std::uint64_t sub_id = 0;
  bool sub_acked = false;
  bool replay_unknown = false;  // a replay of its letter was in flight at a kill
  // The current task (the submission, or its latest accepted replay):
  int life = 0;             // life it was accepted in
  std::uint64_t id = 0;     // its id in that life
  bool durable = false;     // logged
  bool acked = false;       // must survive a kill
  bool owed = false;        // must run (at or after `since`)
  std::size_t since = 0;
  Event cancelled;          // cancel() returned true
  bool cancel_unknown = false;
  // Dead-letter queue.
  enum class Dlq { none, present, gone, maybe } dlq = Dlq::none;
  std::string gone_why;     // replayed, purged, dropped
  Event dlq_event;          // when it was last seen, or left
  int lost_life = 0;        // its key was forgotten in this life: it was never logged
  std::vector<std::size_t> runs;
};

struct KeyState {
  std::string payload;      // the lineage whose acceptance claimed it ("" free)
  bool maybe = false;       // the claim's answer is unknown
  std::uint64_t told_id = 0;  // the id the acceptance answered
  int told_life = 0;
  std::uint64_t restored_id = 0;  // the id answered after a restart
  bool tainted = false;     // already failed a check: not checked again (--keep-going)
};

class Model {
 public:
  Model(fs::path dir, std::uint64_t seed, bool strict_ids, bool async_ops, Inject inject, bool keep_going)
      : dir_(std::move(dir)),
        seed_(seed),
        strict_ids_(strict_ids),
        async_ops_(async_ops),
        inject_(inject),
        keep_going_(keep_going) {}

  int run(int cycles, int steps);

 private:
  // One life of a child: spawn, operations, SIGKILL or clean shutdown.
  void life(int steps, bool may_kill, bool final_life);
  bool send(const std::string& op);             // false: the child is gone
  std::optional<std::string> answer(int timeout_ms = 30000);
  void kill_child();
  void read_runs(std::size_t limit = SIZE_MAX);  // records that begin before limit
  bool settled(const std::string& answer, std::size_t* ran_then);
  int life_of(std::size_t offset) const {
    int l = 0;
    for (std::size_t i = 0; i < life_starts_.size(); ++i) {
      if (offset >= life_starts_[i]) l = static_cast<int>(i) + 1;
    }
    return l;
  }
  std::size_t ran_size() const {
    struct stat st {};
    return ::stat((dir_ / "ran.log").c_str(), &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
  }
  bool confirmed(const Event& e, bool strict_kind) const {
    if (!e.set) return false;
    if (strict_kind && !async_ops_) return true;
    const auto it = barrier_.find(e.life);
    return it != barrier_.end() && e.op < it->second;
  }
  void violation(const std::string& what, const std::string& payload = {});
  void trace(const std::string& line) { trace_.push_back(line); }

  // Operations.
  void op_submit(bool started);
  void op_cancel();
  void op_dead_letters(const std::string& kind);
  void op_waitforged();
  void op_start();
  void apply_submit(Lineage& l, const std::optional<std::string>& a, std::size_t offset_before);
  bool check_listing(const std::string& text, std::size_t ran_then);
  void check_settled(std::size_t ran_then);
  void probe_keys();
  std::string fresh_payload() { return "p" + std::to_string(++payloads_); }
  bool key_certain(const KeyState& k) const;

  fs::path dir_;
  std::uint64_t seed_;
  bool strict_ids_;
  bool async_ops_;
  Inject inject_;
  bool keep_going_;
  std::mt19937_64 rng_;
  pid_t pid_ = -1;
  int to_child_ = -1, from_child_ = -1;
  std::optional<LineReader> reader_;
  int life_ = 0;
  long op_ = 0;
  std::size_t ran_read_ = 0;
  std::vector<std::size_t> life_starts_;
  std::map<int, long> barrier_;  // life -> operations before this one are durable
  std::map<std::string, Lineage> lineages_;
  std::map<std::string, KeyState> keys_;
  std::vector<std::string> key_pool_;
  std::vector<std::string> last_listing_ids_;
  std::vector<std::uint64_t> old_tickets_;
  long payloads_ = 0;
  std::string last_op_;  // echoed beside its answer in the trace
  bool burst_ = false;  // submits in a row, mostly blocking: fills the rings
  std::vector<std::string> trace_;
  std::vector<std::pair<std::string, std::string>> violations_;
  bool child_alive_ = false;
  bool expect_kill_ = false;  // an in-flight SIGKILL is on its way
  int stats_kills_ = 0, stats_shutdowns_ = 0, stats_inflight_ = 0;
  std::map<std::string, long> answers_;
};

void Model::violation(const std::string& what, const std::string& payload) {
  violations_.emplace_back(what, payload);
  trace("!! VIOLATION: " + what);
}

bool Model::send(const std::string& op) {
  ++op_;
  last_op_ = op;
  trace("life " + std::to_string(life_) + " op " + std::to_string(op_) + " > " + op);
  return child_alive_ && write_line(to_child_, op);
}

std::optional<std::string> Model::answer(int timeout_ms) {
  if (!child_alive_) return std::nullopt;
  std::optional<std::string> a = reader_->next(timeout_ms);
  if (a) {
    trace("life " + std::to_string(life_) + " op " + std::to_string(op_) + " < " + *a + "    [" + last_op_ + "]");
  } else if (expect_kill_) {
    trace("life " + std::to_string(life_) + " op " + std::to_string(op_) + " < (no answer: killed in flight)");
    kill_child();
  } else {
    violation("op " + std::to_string(op_) + ": the child gave no answer within " + std::to_string(timeout_ms / 1000) +
              " s (hung or died)");
    kill_child();
  }
  return a;
}

void Model::kill_child() {
  if (!child_alive_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  child_alive_ = false;
  trace("life " + std::to_string(life_) + " SIGKILL");
}

void Model::read_runs(std::size_t limit) {
  std::ifstream in(dir_ / "ran.log", std::ios::binary);
  in.seekg(static_cast<std::streamoff>(ran_read_));
  std::string line;
  while (ran_read_ < limit && std::getline(in, line)) {
    if (in.eof()) break;  // a partial last line: read it next time
    const std::size_t offset = ran_read_;
    ran_read_ += line.size() + 1;
    const std::string payload = words(line).empty() ? std::string() : words(line)[0];
    const int life = life_of(offset);
    trace("life " + std::to_string(life) + " ran @" + std::to_string(offset) + " " + line);
    const auto it = lineages_.find(payload);
    if (it == lineages_.end()) {
      violation("a task ran that was never submitted: '" + line + "'", payload);
      continue;
    }
    Lineage& l = it->second;
    l.runs.push_back(offset);
    const std::string who = "task " + payload + " (" + type_name(l.type) + ", submitted op " + std::to_string(l.op) + ")";
    if (l.answer == Answer::refused) violation(who + " ran although its submission was answered " + l.status, payload);
    if (l.answer == Answer::duplicate) violation(who + " ran although its submission was answered duplicate", payload);
    if (l.cancelled.set && offset >= l.cancelled.offset &&
        (confirmed(l.cancelled, true) || life == l.cancelled.life)) {
      violation(who + " ran after cancel() returned true for it (op " + std::to_string(l.cancelled.op) + ", life " +
                    std::to_string(l.cancelled.life) + "; this run in life " + std::to_string(life) + ")",
                payload);
    }
    if (!l.durable && l.answer == Answer::accepted && life > l.life) {
      violation(who + " was not logged (memory-only) and ran again in a later life " + std::to_string(life), payload);
    }
    if (l.lost_life != 0 && life >= l.lost_life) {
      violation(who + " ran in life " + std::to_string(life) + " although its key was forgotten in life " +
                    std::to_string(l.lost_life) + " (so it was never logged)",
                payload);
    }
    if (l.dlq == Lineage::Dlq::gone && l.gone_why != "replayed" && offset >= l.dlq_event.offset &&
        (confirmed(l.dlq_event, l.gone_why == "purged") || life == l.dlq_event.life)) {
      violation(who + " ran again after its dead letter was " + l.gone_why + " (op " + std::to_string(l.dlq_event.op) + ")",
                payload);
    }
    if (l.dlq == Lineage::Dlq::present && offset >= l.dlq_event.offset &&
        (confirmed(l.dlq_event, false) || life == l.dlq_event.life)) {
      violation(who + " ran again although it was listed as a dead letter (op " + std::to_string(l.dlq_event.op) + ")",
                payload);
    }
  }
}

bool Model::key_certain(const KeyState& k) const {
  if (k.payload.empty() || k.maybe) return false;
  const Lineage& owner = lineages_.at(k.payload);
  return k.told_life == life_ || (!owner.memory && owner.sub_acked);
}

void Model::apply_submit(Lineage& l, const std::optional<std::string>& a, std::size_t offset_before) {
  const std::string who = "submit op " + std::to_string(l.op) + " (" + l.payload + ")";
  KeyState* key = l.key.empty() ? nullptr : &keys_[l.key];
  if (key != nullptr && key->tainted) key = nullptr;  // reported once; its later answers follow from that
  const std::size_t reported = violations_.size();
  struct Taint {  // a key whose answer failed a check is not checked again
    KeyState* key;
    const std::vector<std::pair<std::string, std::string>>& violations;
    std::size_t before;
    ~Taint() {
      if (key != nullptr && violations.size() > before) key->tainted = true;
    }
  } taint{key, violations_, reported};
  if (!a) {  // in flight when killed: may or may not have been accepted
    l.answer = Answer::unknown;
    l.durable = !l.memory;
    l.life = life_;
    l.sub_life = life_;
    if (key != nullptr && !key_certain(*key)) *key = KeyState{.payload = l.payload, .maybe = true, .told_id = 0, .told_life = life_};
    return;
  }
  const std::vector<std::string> w = words(*a);
  if (w.size() < 6 || w[0] != "S") {
    violation(who + ": malformed answer '" + *a + "'", l.payload);
    return;
  }
  l.status = w[1];
  ++answers_[w[1]];
  l.life = life_;
  if (w[1] == "accepted") {
    l.answer = Answer::accepted;
    l.id = std::stoull(w[2]);
    l.sub_id = l.id;
    l.sub_life = life_;
    const std::uint64_t ticket = std::stoull(w[3]);
    if (ticket != 0) old_tickets_.push_back(ticket);
    l.durable = !l.memory;
    l.owed = true;
    l.since = offset_before;
    if (l.id == 0) violation(who + ": accepted with task id 0", l.payload);
    if (l.durable && !l.pre_start) {
      if (ticket == 0) violation(who + ": a durable submission was accepted without a durable ticket", l.payload);
      if (w[4] == "1") {
        l.acked = l.sub_acked = true;
        barrier_[life_] = op_;
      } else if (w[5] == "0") {
        violation(who + ": accepted as durable, but wait_durable returned false and the log has not failed", l.payload);
      }
    }
    if (key != nullptr) {
      if (key_certain(*key)) {
        const Lineage& owner = lineages_.at(key->payload);
        violation(who + ": key '" + l.key + "' accepted again, although it was answered accepted for " +
                      owner.payload + " (op " + std::to_string(owner.op) + ", life " + std::to_string(key->told_life) +
                      (owner.sub_acked ? ", acknowledged durable)" : ")"),
                  l.payload + "," + owner.payload);
      } else if (!key->payload.empty() && lineages_.at(key->payload).durable) {
        // The earlier acceptance was never logged: that task must not run from now on.
        Lineage& owner = lineages_.at(key->payload);
        if (owner.lost_life == 0) owner.lost_life = life_;
      }
      *key = KeyState{.payload = l.payload, .maybe = false, .told_id = l.sub_id, .told_life = life_};
    }
    return;
  }
  if (w[1] == "duplicate") {
    l.answer = Answer::duplicate;
    const std::uint64_t id = std::stoull(w[2]);
    if (key == nullptr) {
      if (l.key.empty()) violation(who + ": answered duplicate without an idempotency key", l.payload);
    } else if (key->payload.empty()) {
      violation(who + ": answered duplicate (id " + w[2] + ") for key '" + l.key +
                    "', which no submission the caller was told was accepted holds",
                l.payload);
    } else {
      Lineage& owner = lineages_.at(key->payload);
      if (key->maybe) {
        key->maybe = false;
        key->restored_id = id;
        owner.durable = true;
      } else if (key->told_life == life_) {
        if (id != key->told_id) {
          violation(who + ": duplicate for key '" + l.key + "' names task " + std::to_string(id) +
                        ", but the key was accepted for task " + std::to_string(key->told_id) + " (" + owner.payload +
                        ")",
                    l.payload + "," + owner.payload);
        }
      } else if (strict_ids_ && id != key->told_id) {
        violation(who + ": after a restart the duplicate for key '" + l.key + "' names task " + std::to_string(id) +
                      ", the caller was told " + std::to_string(key->told_id),
                  l.payload);
      } else if (key->restored_id != 0 && id != key->restored_id) {
        violation(who + ": the duplicate for key '" + l.key + "' names task " + std::to_string(id) +
                      ", an earlier answer after a restart named " + std::to_string(key->restored_id),
                  l.payload);
      } else {
        key->restored_id = id;
      }
    }
    return;
  }
  l.answer = Answer::refused;
  if (w[1] == "invalid" && w[6] == "-") violation(who + ": refused invalid without a reason", l.payload);
}

void Model::op_submit(bool started) {
  Lineage l;
  l.payload = fresh_payload();
  const int t = static_cast<int>(rng_() % 100);
  l.type = t < 40 ? 'o' : t < 65 ? 'f' : t < 85 ? 'b' : 'r';
  if (burst_) l.type = t < 50 ? 'b' : t < 75 ? 'o' : 'f';
  const int d = static_cast<int>(rng_() % 100);
  const char durability = d < 80 ? 'e' : d < 90 ? 'd' : 'm';
  l.memory = durability == 'm';
  if (rng_() % 100 < 40) {
    if (!key_pool_.empty() && rng_() % 100 < 40) {
      l.key = key_pool_[rng_() % key_pool_.size()];
    } else {
      l.key = "k" + std::to_string(key_pool_.size());
      key_pool_.push_back(l.key);
    }
  }
  l.delay_ms = rng_() % 100 < 25 ? 20 + static_cast<int>(rng_() % 230) : 0;
  l.pre_start = !started;
  l.op = op_ + 1;
  const std::size_t before = ran_size();
  lineages_[l.payload] = l;
  Lineage& ref = lineages_[l.payload];
  const bool sent = send("submit " + l.payload + " " + l.type + " " + durability + " " + std::to_string(l.delay_ms) +
                         " " + (l.key.empty() ? "-" : l.key));
  apply_submit(ref, sent ? answer() : std::nullopt, before);
}

void Model::op_cancel() {
  // A task accepted in this life, the latest more often; or an id never issued.
  std::vector<Lineage*> targets;
  for (auto& [p, l] : lineages_) {
    if (l.life == life_ && l.id != 0 && (l.answer == Answer::accepted)) targets.push_back(&l);
  }
  std::sort(targets.begin(), targets.end(), [](const Lineage* a, const Lineage* b) { return a->op < b->op; });
  Lineage* target = nullptr;
  std::uint64_t id = 0xfeed00000000ull + rng_() % 1000;  // never issued: the index is far beyond max_named_tasks
  if (!targets.empty() && rng_() % 10 != 0) {
    const std::size_t recent = std::min<std::size_t>(targets.size(), 5);
    target = targets[targets.size() - 1 - rng_() % recent];
    id = target->id;
  }
  const bool sent = send("cancel " + std::to_string(id));
  const std::optional<std::string> a = sent ? answer() : std::nullopt;
  if (!a) {
    if (target != nullptr) target->cancel_unknown = true;
    return;
  }
  if (*a == "C 1") {
    if (target == nullptr) {
      violation("cancel(" + std::to_string(id) + ") returned true for an id the engine never issued");
      return;
    }
    read_runs();
    target->cancelled = Event{true, life_, op_, ran_size()};
    target->owed = false;
    if (target->type != 'r') {
      for (std::size_t r : target->runs) {
        if (r >= target->since && life_of(r) == life_) {
          violation("cancel of " + target->payload + " returned true although it had already run in this life",
                    target->payload);
          break;
        }
      }
    }
  }
}

void Model::op_waitforged() {
  // A ticket from an earlier life, or one no engine ever issued.
  std::uint64_t ticket = (rng_() % 2 == 0 || old_tickets_.empty()) ? (rng_() | (1ull << 62))
                                                                     : old_tickets_[rng_() % old_tickets_.size()];
  if (!send("waitforged " + std::to_string(ticket))) return;
  const std::optional<std::string> a = answer(10000);
  if (a && *a == "W hung") {
    violation("wait_durable() on ticket " + std::to_string(ticket) +
              ", which this engine never issued, was still blocked after 3 s");
    kill_child();  // it exits after saying so
  }
}

// Checks a quiescent listing against the model. Returns the listed ids.
bool Model::check_listing(const std::string& text, std::size_t ran_then) {
  read_runs(ran_then);
  const std::vector<std::string> w = words(text);
  if (w.empty() || w[0] != "L") {
    violation("malformed listing '" + text + "'");
    return false;
  }
  const std::size_t offset = ran_then;
  std::set<std::string> listed;
  last_listing_ids_.clear();
  if (w.size() - 1 > kDeadLetterCapacity) {
    violation("the dead-letter queue holds " + std::to_string(w.size() - 1) + " letters, capacity " +
              std::to_string(kDeadLetterCapacity));
  }
  for (std::size_t i = 1; i < w.size(); ++i) {
    const std::vector<std::string> f = split(w[i], ':');
    if (f.size() != 5) {
      violation("malformed letter '" + w[i] + "'");
      continue;
    }
    last_listing_ids_.push_back(f[0]);
    const std::string& p = f[2];
    const auto it = lineages_.find(p);
    if (it == lineages_.end()) {
      violation("dead letter for a task never submitted: " + w[i], p);
      continue;
    }
    Lineage& l = it->second;
    // A replay in flight at a kill may have logged the new task but not the
    // letter's leaving: then both come back (at-least-once).
    if (!listed.insert(p).second && !l.replay_unknown) violation("two dead letters for task " + p, p);
    if (!l.durable && l.dlq_event.set && l.dlq_event.life < life_ && f[1] == "0") {
      violation("dead letter " + w[i] + " of a memory-only task came back after a restart", p);
    }
    const std::string who = "dead letter " + w[i] + " (submitted op " + std::to_string(l.op) + ")";
    if (l.answer == Answer::refused || l.answer == Answer::duplicate) {
      violation(who + ": its submission was answered " + l.status, p);
    }
    if (l.type != 'f' && l.type != 'r') violation(who + ": a task of a type that succeeds", p);
    if (f[3] != type_name(l.type)) violation(who + ": the letter's name is not the task's", p);
    const std::uint32_t want = l.type == 'r' ? kRetryAttempts : 1;
    if (f[4] != std::to_string(want)) violation(who + ": " + f[4] + " attempts, expected " + std::to_string(want), p);
    if (l.cancelled.set && (confirmed(l.cancelled, true) || l.cancelled.life == life_)) {
      bool ran_after = false;
      for (std::size_t r : l.runs) ran_after |= r >= l.cancelled.offset;
      if (!ran_after) violation(who + ": cancel() returned true for it (op " + std::to_string(l.cancelled.op) + ")", p);
    }
    if (l.dlq == Lineage::Dlq::gone) {
      bool ran_since = false;
      for (std::size_t r : l.runs) ran_since |= r >= l.dlq_event.offset;
      const bool legit = (l.gone_why == "replayed" && ran_since) ||
                         (!confirmed(l.dlq_event, l.gone_why != "dropped") && life_ > l.dlq_event.life);
      if (!legit) {
        violation(who + ": it was " + l.gone_why + " (op " + std::to_string(l.dlq_event.op) + ", life " +
                      std::to_string(l.dlq_event.life) + ") and came back",
                  p);
      }
    }
    l.dlq = Lineage::Dlq::present;
    l.dlq_event = Event{true, life_, op_, offset};
  }
  // Letters expected and missing: allowed only when enough newer letters
  // were added after them to push them out of a full queue.
  auto last_run = [](const Lineage& l) { return l.runs.empty() ? std::size_t{0} : l.runs.back(); };
  for (auto& [p, l] : lineages_) {
    if (listed.count(p) != 0 || (l.type != 'f' && l.type != 'r')) continue;
    bool expected = false;
    if (l.dlq == Lineage::Dlq::present) {
      expected = l.dlq_event.life == life_ || (l.durable && (confirmed(l.dlq_event, false) || l.acked));
    } else if (l.dlq == Lineage::Dlq::none || (l.dlq == Lineage::Dlq::gone && l.gone_why == "replayed")) {
      bool ran_since = false;
      for (std::size_t r : l.runs) ran_since |= r >= l.since;
      expected = l.answer == Answer::accepted && (l.acked || l.life == life_) && ran_since && !l.cancelled.set &&
                 !l.cancel_unknown && l.lost_life == 0 &&
                 !(l.dlq == Lineage::Dlq::gone && !(last_run(l) >= l.dlq_event.offset));
    }
    if (!expected) continue;
    std::size_t newer = 0;
    for (const auto& [q, m] : lineages_) {
      if (q != p && (m.type == 'f' || m.type == 'r') && !m.runs.empty() && last_run(m) > last_run(l)) ++newer;
    }
    if (newer >= kDeadLetterCapacity) {
      if (l.dlq != Lineage::Dlq::gone || l.gone_why != "dropped") {
        l.dlq = Lineage::Dlq::gone;
        l.gone_why = "dropped";
        l.dlq_event = Event{true, life_, op_, offset};
      }
    } else {
      violation("dead letter for " + p + " (" + type_name(l.type) + ", submitted op " + std::to_string(l.op) +
                    (l.acked ? ", acknowledged" : "") + ") is missing; only " + std::to_string(newer) +
                    " letters were added after it",
                p);
    }
  }
  return true;
}

bool Model::settled(const std::string& answer, std::size_t* ran_then) {
  const std::vector<std::string> w = words(answer);
  if (w.size() == 3 && w[0] == "Z" && w[1] == "ok") {
    *ran_then = std::stoull(w[2]);
    return true;
  }
  violation("the engine did not settle within 15 s: " + answer);
  return false;
}

void Model::check_settled(std::size_t ran_then) {
  read_runs(ran_then);
  for (auto& [p, l] : lineages_) {
    if (!l.owed || l.cancelled.set || l.cancel_unknown || l.lost_life != 0) continue;
    if (!(l.acked || l.life == life_)) continue;
    bool ran = false;
    for (std::size_t r : l.runs) ran |= r >= l.since;
    if (!ran) {
      violation("task " + p + " (" + type_name(l.type) + ", op " + std::to_string(l.op) + ", life " +
                    std::to_string(l.life) + (l.acked ? ", acknowledged durable" : ", accepted in this life") +
                    ", not cancelled) never ran",
                p);
    }
  }
}

void Model::op_dead_letters(const std::string& kind) {
  std::string op = kind;
  std::string target;
  if (kind == "replay") {
    if (last_listing_ids_.empty() || rng_() % 8 == 0) {
      target = std::to_string(0xbad00000000ull + rng_() % 100);
    } else {
      target = last_listing_ids_[rng_() % last_listing_ids_.size()];
    }
    op += " " + target;
  }
  const std::size_t before = ran_size();
  if (!send(op)) return;
  const std::optional<std::string> a = answer();
  if (!a) {
    // In flight when killed: the queue may or may not have changed.
    if (kind == "replay") {  // the target may be gone, and may run again
      for (auto& [p, l] : lineages_) {
        if (l.dlq == Lineage::Dlq::present) {
          l.replay_unknown = true;
          l.dlq = Lineage::Dlq::maybe;
        }
      }
    }
    if (kind == "purge") {  // any letter there may have gone
      for (auto& [p, l] : lineages_) {
        if ((l.type == 'f' || l.type == 'r') && !l.runs.empty()) l.dlq = Lineage::Dlq::maybe;
      }
    }
    return;
  }
  const std::vector<std::string> parts = split(*a, '|');
  if (parts.size() < 2 || words(parts[0]).empty() || words(parts[0])[0] != "Z") {
    violation("malformed answer '" + *a + "'");
    return;
  }
  std::size_t ran_then = 0;
  if (!settled(parts[0], &ran_then)) return;
  check_settled(ran_then);
  std::string listing = parts[1];
  while (!listing.empty() && listing.front() == ' ') listing.erase(0, 1);
  const std::vector<std::string> ids = last_listing_ids_;
  const std::vector<std::string> listed_words = words(listing);
  check_listing(listing, ran_then);
  if (kind == "purge") {
    const std::vector<std::string> pw = words(parts.size() > 2 ? parts[2] : "");
    const std::size_t count = listed_words.size() - 1;
    if (pw.size() != 2 || pw[1] != std::to_string(count)) {
      violation("purge_dead_letters() returned '" + (parts.size() > 2 ? parts[2] : "") + "', the queue held " +
                std::to_string(count));
    }
    for (auto& [p, l] : lineages_) {
      if (l.dlq == Lineage::Dlq::present && l.dlq_event.op == op_) {
        l.dlq = Lineage::Dlq::gone;
        l.gone_why = "purged";
        l.dlq_event = Event{true, life_, op_, ran_then};
      }
    }
    last_listing_ids_.clear();
  } else if (kind == "replay") {
    std::string payload;
    for (std::size_t i = 1; i < listed_words.size(); ++i) {
      const auto f = split(listed_words[i], ':');
      if (f.size() == 5 && f[0] == target) payload = f[2];
    }
    const std::vector<std::string> sw = words(parts.size() > 2 ? parts[2] : "");
    if (sw.size() < 6) {
      violation("malformed replay answer '" + *a + "'");
      return;
    }
    if (payload.empty()) {
      if (sw[1] != "invalid") violation("replay of " + target + ", not in the queue, was answered " + sw[1]);
      return;
    }
    Lineage& l = lineages_.at(payload);
    if (sw[1] == "accepted") {
      l.dlq = Lineage::Dlq::gone;
      l.gone_why = "replayed";
      l.dlq_event = Event{true, life_, op_, ran_then};
      l.life = life_;
      l.id = std::stoull(sw[2]);
      l.durable = std::stoull(sw[3]) != 0;
      l.acked = sw[4] == "1";
      if (l.acked) barrier_[life_] = op_;
      if (l.durable && !l.acked && sw[5] == "0") {
        violation("replay of " + target + " (" + payload + ") accepted, but wait_durable returned false", payload);
      }
      l.owed = true;
      l.since = before;
      l.cancelled = Event{};
      l.cancel_unknown = false;
    } else if (sw[1] == "invalid" || sw[1] == "duplicate") {
      violation("replay of listed dead letter " + target + " (" + payload + ") was answered " + sw[1] + " " +
                    (sw.size() > 6 ? sw[6] : ""),
                payload);
    }
  }
}

void Model::op_start() {
  if (!send("start")) return;
  const auto a = answer(60000);
  if (!a) return;
  const auto w = words(*a);
  if (w.size() < 2 || w[1] != "ok") {
    violation("start() failed: " + *a);
    kill_child();
    return;
  }
  // "T ok requeued letters keys id:waited...": the durable submissions
  // accepted before start(), waited for after it.
  for (std::size_t i = 5; i < w.size(); ++i) {
    const auto f = split(w[i], ':');
    if (f.size() != 2) continue;
    for (auto& [p, l] : lineages_) {
      if (l.life != life_ || !l.pre_start || l.answer != Answer::accepted || !l.durable ||
          std::to_string(l.id) != f[0]) {
        continue;
      }
      if (f[1] == "1") {
        l.acked = l.sub_acked = true;
        barrier_[life_] = op_;
      } else {
        violation("durable submission " + p + " (op " + std::to_string(l.op) +
                      ") was answered accepted before start(), and wait_durable() after start() returned false: "
                      "neither refused nor made durable",
                  p);
      }
    }
  }
}

void Model::probe_keys() {
  // Keys resubmitted; each answer is checked by apply_submit. Every key
  // whose state is in doubt or that was answered in the last two lives, and
  // a sample of the older ones (a long run has thousands).
  std::vector<std::string> probes;
  for (const std::string& k : key_pool_) {
    const KeyState& state = keys_[k];
    if (state.payload.empty() || state.maybe || state.told_life >= life_ - 2 || rng_() % 16 == 0) probes.push_back(k);
  }
  for (const std::string& k : probes) {
    Lineage l;
    l.payload = fresh_payload();
    l.type = 'o';
    l.key = k;
    l.op = op_ + 1;
    const std::size_t before = ran_size();
    lineages_[l.payload] = l;
    const bool sent = send("submit " + l.payload + " o e 0 " + k);
    apply_submit(lineages_[l.payload], sent ? answer() : std::nullopt, before);
    if (!child_alive_) return;
  }
}

void Model::life(int steps, bool may_kill, bool final_life) {
  ++life_;
  rng_.seed(seed_ * 1000003u + static_cast<std::uint64_t>(life_));
  read_runs();
  life_starts_.push_back(ran_size());
  // Keys held by memory-only tasks are gone with the process.
  for (auto& [k, state] : keys_) {
    if (!state.payload.empty() && lineages_.at(state.payload).memory) state = KeyState{.tainted = state.tainted};
  }
  int in_fds[2], out_fds[2];
  if (::pipe(in_fds) != 0 || ::pipe(out_fds) != 0) std::_Exit(2);
  std::fflush(stdout);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(in_fds[1]);
    ::close(out_fds[0]);
    std::_Exit(child_main(dir_, in_fds[0], out_fds[1], inject_));
  }
  ::close(in_fds[0]);
  ::close(out_fds[1]);
  to_child_ = in_fds[1];
  from_child_ = out_fds[0];
  reader_.emplace(from_child_);
  child_alive_ = true;
  trace("---- life " + std::to_string(life_) + " (pid " + std::to_string(pid_) + ")");

  // The kill point: an operation after start() (start() itself included),
  // killed a little after its answer, or while it is in flight.
  const int pre = rng_() % 2 == 0 ? 1 + static_cast<int>(rng_() % 3) : 0;
  const int planned = steps + 3;
  // Three lives in ten end in a clean shutdown, the rest in a SIGKILL.
  const int kill_at = may_kill && rng_() % 10 >= 3 ? static_cast<int>(rng_() % planned) : -1;
  const bool in_flight = rng_() % 3 == 0;
  const int kill_delay_us = static_cast<int>(rng_() % 3000);
  bool killed = false;

  for (int i = 0; i < pre && child_alive_; ++i) {
    if (rng_() % 5 == 0) {
      op_cancel();
    } else {
      op_submit(false);
    }
  }
  // start(), then what a caller checks after a restart, then random operations.
  const std::vector<std::string> plan = {"start", "list", "probe"};
  for (int step = 0; child_alive_ && step < planned; ++step) {
    if (step == kill_at && !in_flight) {
      std::this_thread::sleep_for(std::chrono::microseconds(kill_delay_us));
      kill_child();
      killed = true;
      ++stats_kills_;
      break;
    }
    std::string what;
    if (step < static_cast<int>(plan.size())) {
      what = plan[static_cast<std::size_t>(step)];
    } else {
      const int r = static_cast<int>(rng_() % 100);
      what = r < 40 ? "submit" : r < 55 ? "cancel" : r < 63 ? "gate" : r < 69 ? "settle" : r < 74 ? "list"
             : r < 82 ? "replay" : r < 87 ? "purge" : r < 89 ? "waitforged" : "burst";
    }
    // In flight: a SIGKILL races the operation; an answer that made it
    // through the pipe before the kill still counts.
    std::thread killer;
    if (step == kill_at) {
      expect_kill_ = true;
      killer = std::thread([pid = pid_, d = kill_delay_us] {
        std::this_thread::sleep_for(std::chrono::microseconds(d / 2));
        ::kill(pid, SIGKILL);
      });
    }
    if (what == "start") {
      op_start();
    } else if (what == "probe") {
      probe_keys();
    } else if (what == "submit") {
      op_submit(true);
    } else if (what == "burst") {
      burst_ = true;
      for (int n = 3 + static_cast<int>(rng_() % 3); n > 0 && child_alive_; --n) op_submit(true);
      burst_ = false;
    } else if (what == "cancel") {
      op_cancel();
    } else if (what == "gate") {
      if (send(std::string("gate ") + (rng_() % 2 == 0 ? "1" : "0"))) answer();
    } else if (what == "settle") {
      if (send("settle")) {
        const auto a = answer();
        std::size_t ran_then = 0;
        if (a && settled(*a, &ran_then)) check_settled(ran_then);
      }
    } else if (what == "list" || what == "replay" || what == "purge") {
      op_dead_letters(what);
    } else if (what == "waitforged") {
      op_waitforged();
    }
    if (killer.joinable()) {
      killer.join();
      kill_child();
      expect_kill_ = false;
      killed = true;
      ++stats_kills_;
      ++stats_inflight_;
    }
    read_runs();
    if (!violations_.empty() && !keep_going_) break;
  }
  if (child_alive_ && !killed && (violations_.empty() || keep_going_)) {
    if (may_kill && kill_at >= 0 && !final_life) {
      kill_child();
      ++stats_kills_;
    } else {
      // A clean shutdown: everything accepted in this life is now as good as acknowledged.
      if (send("shutdown")) {
        const auto a = answer(60000);
        if (a && *a == "X ok") {
          barrier_[life_] = LONG_MAX;
          for (auto& [p, l] : lineages_) {
            if (l.life == life_ && l.answer == Answer::accepted && l.durable) l.acked = true;
            if (l.sub_life == life_ && l.answer == Answer::accepted && !l.memory) l.sub_acked = true;
          }
          ++stats_shutdowns_;
        }
      }
      int status = 0;
      if (child_alive_) ::waitpid(pid_, &status, 0);
      child_alive_ = false;
    }
  }
  if (child_alive_) kill_child();
  ::close(to_child_);
  ::close(from_child_);
  reader_.reset();
  read_runs();
}

int Model::run(int cycles, int steps) {
  fs::create_directories(dir_);
  const auto go_on = [&] { return violations_.empty() || keep_going_; };
  for (int c = 0; c < cycles && go_on(); ++c) life(steps, true, false);
  // Then two lives without kills: the second checks what a clean shutdown kept.
  if (go_on()) life(steps, false, true);
  if (go_on()) life(0, false, true);

  std::size_t ran = 0;
  for (const auto& [p, l] : lineages_) ran += l.runs.empty() ? 0 : 1;
  std::printf("brisk_model: seed %llu, %d lives (%d SIGKILL, %d in flight, %d clean shutdowns), %ld operations, "
              "%zu submissions, %zu ran;",
              static_cast<unsigned long long>(seed_), life_, stats_kills_, stats_inflight_, stats_shutdowns_, op_,
              lineages_.size(), ran);
  for (const auto& [status, n] : answers_) std::printf(" %s %ld", status.c_str(), n);
  std::printf("\n");
  if (violations_.empty()) {
    std::printf("1 passed, 0 failed\n");
    return 0;
  }
  {
    std::ofstream out(dir_ / "trace.txt");
    for (const auto& line : trace_) out << line << "\n";
  }
  std::printf("\n%zu VIOLATION(S):\n", violations_.size());
  std::set<std::string> involved;
  for (const auto& [what, payload] : violations_) {
    if (involved.size() >= 20) break;  // --keep-going: the first twenty are enough to read
    std::printf("  %s\n", what.c_str());
    for (const std::string& p : split(payload, ',')) {
      if (!p.empty()) involved.insert(p);
    }
  }
  int shown = 0;
  for (const std::string& p : involved) {
    if (++shown > 5) break;
    // The lines naming the task, and the start() and SIGKILL of each life they are in.
    auto names = [&p](const std::string& line) {
      const std::size_t at = line.find(p);
      if (at == std::string::npos) return false;
      const std::size_t end = at + p.size();
      const bool left = at > 0 && (line[at - 1] == ' ' || line[at - 1] == ':' || line[at - 1] == '(');
      const bool right = end == line.size() || line[end] == ' ' || line[end] == ':' || line[end] == ')';
      return left && right;
    };
    auto life_of_line = [](const std::string& line) {
      return line.rfind("life ", 0) == 0 ? std::atoi(line.c_str() + 5) : 0;
    };
    std::set<int> lives;
    for (const auto& line : trace_) {
      if (names(line)) lives.insert(life_of_line(line));
    }
    std::printf("\nsteps involving %s:\n", p.c_str());
    for (const auto& line : trace_) {
      const bool context = (line.find("SIGKILL") != std::string::npos || line.find("> start") != std::string::npos ||
                            line.find("> shutdown") != std::string::npos) &&
                           lives.count(life_of_line(line)) != 0;
      if (names(line) || context || line.rfind("!! VIOLATION", 0) == 0) std::printf("  %s\n", line.c_str());
    }
  }
  std::printf("\nlast steps:\n");
  for (std::size_t i = trace_.size() > 40 ? trace_.size() - 40 : 0; i < trace_.size(); ++i) {
    std::printf("  %s\n", trace_[i].c_str());
  }
  std::printf("\nfull trace: %s\nreplay: brisk_model --seed %llu (same --steps/--cycles)\n",
              (dir_ / "trace.txt").c_str(), static_cast<unsigned long long>(seed_));
  std::printf("0 passed, 1 failed\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk model-based test: random operations, SIGKILLs and restarts against a model of the answers"};
  int cycles = 20, steps = 40;
  std::uint64_t seed = std::random_device{}();
  std::string dir;
  bool strict_ids = false, async_ops = false, keep_going = false;
  app.add_option("--seed", seed, "random seed (printed first; replays the same choices)");
  app.add_option("--cycles", cycles, "lives ended by SIGKILL or shutdown, before the two final clean lives")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--steps", steps, "operations per life after start()")->check(CLI::Range(0, 100000));
  app.add_option("--dir", dir, "working directory (default: a fresh one under /tmp, removed on success)");
  app.add_flag("--strict-ids", strict_ids,
               "after a restart, a duplicate must name the id the caller was told at acceptance (not the durable id)");
  app.add_flag("--async-ops-ok", async_ops,
               "cancel/purge/replay need not be durable when they return: only once a later wait_durable succeeded");
  app.add_flag("--keep-going", keep_going,
               "after a violation, go on with the next lives (later checks may then follow from the first failure)");
  const std::map<std::string, Inject> injections = {{"none", Inject::none},
                                                     {"refused-but-kept", Inject::refused_but_kept},
                                                     {"cancel-ignored", Inject::cancel_ignored},
                                                     {"purge-ignored", Inject::purge_ignored},
                                                     {"ack-lost", Inject::ack_lost}};
  Inject inject = Inject::none;
  app.add_option("--inject", inject,
                 "test the test: the child misreports as a defect would (refused-but-kept: a logged task answered "
                 "rejected_full; cancel-ignored: cancel() answered true and not done; purge-ignored; ack-lost: an "
                 "acknowledged submission never made); the run must then fail")
      ->transform(CLI::CheckedTransformer(injections, CLI::ignore_case));
  CLI11_PARSE(app, argc, argv);
  std::printf("brisk_model: seed %llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/brisk-model-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 2;
    dir = tmpl;
  } else if (fs::exists(fs::path(dir) / "ran.log") || fs::exists(fs::path(dir) / "wal")) {
    std::printf("brisk_model: %s holds an earlier run; give an empty or new directory\n", dir.c_str());
    return 2;
  }
  std::printf("brisk_model: dir %s, %d cycles of %d steps\n", dir.c_str(), cycles, steps);
  std::fflush(stdout);
  ::signal(SIGPIPE, SIG_IGN);
  Model model(dir, seed, strict_ids, async_ops, inject, keep_going);
  const int rc = model.run(cycles, steps);
  if (rc == 0 && own_dir) fs::remove_all(dir);
  return rc;
}
