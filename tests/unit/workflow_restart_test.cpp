// Durable batches and chains across restarts (issue 17): the log's fold and
// checkpoints keep a batch's counts; a process killed (SIGKILL) mid-batch,
// between a batch's last completion and its callback, while its callback
// runs, or between a chain's steps, comes back and finishes with each
// callback and step submitted exactly once. What ran is kept outside the
// process: handlers append lines to files the test reads.
#include "brisk/brisk.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "wal/log_writer.hpp"
#include "wal_test_support.hpp"

namespace brisk {
namespace {

namespace wal = detail::wal;
using namespace std::chrono_literals;
using test::eventually;

void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ASSERT_GE(fd, 0);
  const std::string text = line + "\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));  // one write: atomic
  ::close(fd);
}

std::vector<std::string> lines(const std::string& path) {
  std::istringstream in(test::read_file(path));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Runs `child` in a forked process (no engine thread exists in this one
// yet) and expects it to die of SIGKILL, which it sends itself.
void run_killed(const std::function<void()>& child) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    child();
    ::_exit(3);  // it should have killed itself
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
}

void kill_self() { ::kill(::getpid(), SIGKILL); }

// The log's records, one a line: printed when a test fails.
std::string dump(const std::string& dir) {
  std::string out;
  wal::read_log(wal::WalEnv::posix(), dir, {wal::RecoveryMode::tolerate_corrupted_tail_records, 0},
                [&](const wal::RecordView& v) {
                  out += std::string(wal::to_string(wal::type_of(v.event))) + " " + wal::describe(v.event) + "\n";
                });
  return out;
}

class WorkflowRestart : public ::testing::Test {
 protected:
  EngineConfig config() {
    EngineConfig c;
    c.workers = 2;
    c.pin_workers = false;
    c.durability.wal_dir = dir.path();
    return c;
  }
  // "work" records its payload in ran; "report" its payload in reports.
  // In a child: "work" waits for *gate, and the kill_after-th run kills the process.
  void register_work(Engine& engine, std::atomic<bool>* gate = nullptr, int kill_after = 0) {
    engine.register_task("work", [this, gate, kill_after](TaskContext& t) {
      while (gate != nullptr && !gate->load()) std::this_thread::sleep_for(100us);
      std::this_thread::sleep_for(200us);
      append_line(ran, std::string(t.payload()));
      if (kill_after != 0 && ++runs_ == kill_after) kill_self();
    });
  }
  void register_report(Engine& engine) {
    engine.register_task("report", [this](TaskContext& t) { append_line(reports, std::string(t.payload())); });
  }
  // Opens a durable batch of n "work" tasks, seals it, and writes its id to a file.
  BatchId batch_of(Engine& engine, int n) {
    const BatchId b = engine.open_batch({.on_complete = {"report", "tail"}, .durability = Durability::durable});
    EXPECT_NE(b, 0u);
    // What the test expects back is what was answered durable.
    std::vector<SubmitResult> members;
    for (int i = 0; i < n; ++i) members.push_back(engine.submit("work", "w" + std::to_string(i), {.batch = b}));
    for (const SubmitResult& r : members) EXPECT_TRUE(engine.wait_durable(r));
    EXPECT_TRUE(engine.seal_batch(b));  // durable when it answers
    append_line(id_file, std::to_string(b));
    return b;
  }
  BatchId logged_batch_id() { return std::stoull(lines(id_file).at(0)); }
  // Every member ran at least once (at-least-once: some twice).
  void expect_every_member_ran(int n) {
    const std::vector<std::string> got = lines(ran);
    const std::set<std::string> distinct(got.begin(), got.end());
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(n));
  }

  std::atomic<int> runs_{0};
  test::TempDir dir;
  test::TempDir files;
  const std::string ran = files.file("ran");
  const std::string reports = files.file("reports");
  const std::string id_file = files.file("batch");
};

// A callback's payload is "<summary line>\n<its own payload>", so each run
// adds two lines to reports: count the summaries.
std::vector<std::string> summaries(const std::vector<std::string>& all) {
  std::vector<std::string> out;
  for (const std::string& l : all) {
    if (l.starts_with("brisk-batch ")) out.push_back(l);
  }
  return out;
}

TEST_F(WorkflowRestart, AKillMidBatchResumesItAndTheCallbackRunsOnce) {
  constexpr int kTasks = 200;
  run_killed([&] {
    Engine engine(config());
    std::atomic<bool> sealed{false};  // no task runs before the batch was answered sealed
    register_work(engine, &sealed, 20);
    register_report(engine);
    engine.start();
    batch_of(engine, kTasks);
    sealed.store(true);
    std::this_thread::sleep_for(30s);  // the 20th task kills the process long before
  });
  ASSERT_LT(lines(ran).size(), static_cast<std::size_t>(kTasks)) << "killed mid-batch";
  const BatchId b = logged_batch_id();
  for (int restart = 0; restart < 2; ++restart) {
    Engine engine(config());
    register_work(engine);
    register_report(engine);
    engine.start();
    ASSERT_TRUE(eventually([&] { return !summaries(lines(reports)).empty(); }));
    engine.drain();
    EXPECT_FALSE(engine.batch(b)) << "done: forgotten";
  }
  const std::vector<std::string> got = summaries(lines(reports));
  ASSERT_EQ(got.size(), 1u) << "the callback ran " << got.size() << " times";
  const auto s = BatchSummary::parse(got[0] + "\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->info.id, b);
  EXPECT_EQ(s->info.total, std::uint64_t{kTasks});
  EXPECT_EQ(s->info.succeeded, std::uint64_t{kTasks});
  expect_every_member_ran(kTasks);
}

// Killed after every task of the batch finished (and that was logged) but
// before its callback was submitted: the child has no "report" handler, so
// the callback is refused there (kept as an in-memory dead letter that the
// kill loses), the state a crash at that instant leaves.
TEST_F(WorkflowRestart, AKillBetweenTheLastCompletionAndTheCallbackRunsItOnceAfterRestart) {
  constexpr int kTasks = 20;
  run_killed([&] {
    Engine engine(config());
    register_work(engine);
    engine.start();
    batch_of(engine, kTasks);
    while (engine.dead_letter_count() == 0) std::this_thread::sleep_for(100us);
    engine.drain();  // the completions are appended
    // A durable sentinel: everything appended before it is on disk.
    engine.wait_durable(engine.submit("work", "sentinel"));
    kill_self();
  });
  const BatchId b = logged_batch_id();
  const std::size_t ran_before = lines(ran).size();
  EXPECT_GE(ran_before, static_cast<std::size_t>(kTasks));
  for (int restart = 0; restart < 3; ++restart) {
    Engine engine(config());
    register_work(engine);
    register_report(engine);
    engine.start();
    if (restart == 0) ASSERT_TRUE(eventually([&] { return !summaries(lines(reports)).empty(); }));
    engine.drain();
    EXPECT_FALSE(engine.batch(b));
  }
  const std::vector<std::string> got = summaries(lines(reports));
  ASSERT_EQ(got.size(), 1u) << "the callback ran " << got.size() << " times";
  const auto s = BatchSummary::parse(got[0] + "\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->info.total, std::uint64_t{kTasks});
  EXPECT_EQ(s->info.succeeded, std::uint64_t{kTasks});
}

// Killed while the callback runs (it was submitted, and its submission
// logged): after the restart it runs again as the task it is, and is not
// submitted a second time.
TEST_F(WorkflowRestart, AKillWhileTheCallbackRunsDoesNotSubmitItAgain) {
  constexpr int kTasks = 10;
  run_killed([&] {
    Engine engine(config());
    register_work(engine);
    // Not before seal_batch() answered: until then the seal may not be on
    // disk (the callback may run before its own submit record is written).
    std::atomic<bool> sealed{false};
    engine.register_task("report", [&](TaskContext&) {
      while (!sealed.load()) std::this_thread::sleep_for(100us);
      kill_self();
    });
    engine.start();
    batch_of(engine, kTasks);
    sealed.store(true);
    std::this_thread::sleep_for(30s);  // the callback kills the process long before
  });
  const std::string log = dump(dir.path());
  for (int restart = 0; restart < 2; ++restart) {
    Engine engine(config());
    register_work(engine);
    register_report(engine);
    engine.start();
    if (restart == 0) ASSERT_TRUE(eventually([&] { return !summaries(lines(reports)).empty(); })) << log;
    engine.drain();
  }
  const std::vector<std::string> got = summaries(lines(reports));
  ASSERT_EQ(got.size(), 1u) << "the callback ran " << got.size() << " times";
}

// A chain killed while its second step starts: after the restart the second
// step runs once, with the first step's result, and the third after it.
TEST_F(WorkflowRestart, AChainKilledBetweenStepsGoesOnWithTheResultOnce) {
  const std::string steps = files.file("steps");
  std::atomic<bool> answered{false};  // the child's chain was answered durable
  auto register_steps = [&](Engine& engine, bool kill_in_resize) {
    engine.register_task("fetch", [&](TaskContext& t) {
      append_line(steps, "fetch " + std::string(t.payload()));
      t.set_result("fetched:" + std::string(t.payload()));
    });
    engine.register_task("resize", [&, kill_in_resize](TaskContext& t) {
      if (kill_in_resize) {
        while (!answered.load()) std::this_thread::sleep_for(100us);
        kill_self();
      }
      append_line(steps, "resize " + std::string(t.payload()));
      t.set_result("resized:" + std::string(t.payload()));
    });
    engine.register_task("upload", [&](TaskContext& t) { append_line(steps, "upload " + std::string(t.payload())); });
  };
  run_killed([&] {
    Engine engine(config());
    register_steps(engine, true);
    engine.start();
    EXPECT_TRUE(engine.wait_durable(engine.submit_chain({{"fetch", "cat.png"}, {"resize", ""}, {"upload", ""}},
                                                        {.durability = Durability::durable})));
    answered.store(true);
    std::this_thread::sleep_for(30s);  // resize kills the process long before
  });
  for (int restart = 0; restart < 2; ++restart) {
    Engine engine(config());
    register_steps(engine, false);
    engine.start();
    if (restart == 0) {
      ASSERT_TRUE(eventually([&] {
        const auto got = lines(steps);
        return std::count(got.begin(), got.end(), "upload resized:fetched:cat.png") != 0;
      }));
    }
    engine.drain();
  }
  const std::vector<std::string> got = lines(steps);
  EXPECT_GE(std::count(got.begin(), got.end(), "fetch cat.png"), 1) << "at least once";
  EXPECT_EQ(std::count(got.begin(), got.end(), "resize fetched:cat.png"), 1) << ::testing::PrintToString(got);
  EXPECT_EQ(std::count(got.begin(), got.end(), "upload resized:fetched:cat.png"), 1) << ::testing::PrintToString(got);
}

// A sealed batch whose tasks wait (delayed) comes back after a clean restart
// with its counts, and a task added to an unsealed one after the restart joins it.
TEST_F(WorkflowRestart, ABatchComesBackWithItsCountsAndStaysOpenUntilSealed) {
  BatchId sealed = 0, open = 0;
  {
    Engine engine(config());
    register_work(engine);
    register_report(engine);
    engine.start();
    sealed = engine.open_batch({.on_complete = {"report", ""}, .durability = Durability::durable});
    open = engine.open_batch({.on_complete = {"report", ""}, .durability = Durability::durable});
    ASSERT_TRUE(engine.submit("work", "now", {.batch = sealed}));
    ASSERT_TRUE(engine.submit("work", "later", {.delay = 1h, .batch = sealed}));
    ASSERT_TRUE(engine.submit("work", "later", {.delay = 1h, .batch = open}));
    ASSERT_TRUE(engine.seal_batch(sealed));
    engine.drain();
  }
  Engine engine(config());
  register_work(engine);
  register_report(engine);
  engine.start();
  const std::optional<BatchInfo> s = engine.batch(sealed);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->durable);
  EXPECT_TRUE(s->sealed);
  EXPECT_EQ(s->total, 2u);
  EXPECT_EQ(s->succeeded, 1u);
  EXPECT_EQ(s->pending, 1u);
  const std::optional<BatchInfo> o = engine.batch(open);
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->sealed);
  ASSERT_TRUE(engine.submit("work", "after", {.batch = open}));
  EXPECT_EQ(engine.batch(open)->total, 2u);
  EXPECT_TRUE(engine.seal_batch(open));
}

TEST_F(WorkflowRestart, BadDurableBatchesAreRefusedWithTheReason) {
  Engine engine(config());
  register_work(engine);
  try {
    engine.open_batch({.durability = Durability::durable});
    ADD_FAILURE() << "a durable batch before start()";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("before start()"), std::string::npos) << e.what();
  }
  engine.start();
  const BatchId b = engine.open_batch({.durability = Durability::durable});
  const SubmitResult r = engine.submit("work", "x", {.durability = Durability::memory, .batch = b});
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_NE(r.reason.find("durable batch takes durable tasks only"), std::string_view::npos) << r.reason;
  EXPECT_EQ(engine.batch(b)->total, 0u) << "nothing joined";

  Engine no_log([] {
    EngineConfig c;
    c.workers = 1;
    c.pin_workers = false;
    return c;
  }());
  no_log.start();
  EXPECT_THROW(no_log.open_batch({.durability = Durability::durable}), std::invalid_argument);
  EXPECT_NE(no_log.open_batch({}), 0u) << "engine_default without a log: in memory";
}

// The log's fold keeps a batch's counts through a checkpoint (compaction
// removes the finished members' records) and forgets it once done.
TEST(WorkflowLog, ACheckpointKeepsABatchsCountsAndDoneForgetsIt) {
  test::TempDir dir;
  wal::WalOptions o;
  o.dir = dir.path();
  o.fsync = wal::FsyncPolicy::never;
  o.checkpoint_every_segments = 0;
  auto image = [](TaskId id, wal::WorkflowRole role, std::uint64_t batch) {
    wal::TaskImage t = test::sample_task(id);
    t.workflow.role = role;
    t.workflow.batch = batch;
    if (role == wal::WorkflowRole::batch) {
      t.type_name = "brisk.batch";
      t.workflow.calls = {{"report", "r"}, {"", ""}};
    }
    return t;
  };
  auto reopen = [&](wal::RecoveredState* state) {
    std::unique_ptr<wal::Wal> log;
    ASSERT_TRUE(wal::Wal::open(o, &log, state));  // folds everything into a fresh checkpoint
    ASSERT_TRUE(log->close());
  };
  {
    std::unique_ptr<wal::Wal> log;
    wal::RecoveredState state;
    ASSERT_TRUE(wal::Wal::open(o, &log, &state));
    log->append(wal::as_ref(image(8, wal::WorkflowRole::batch, 0)));
    for (TaskId id = 9; id < 19; ++id) log->append(wal::as_ref(image(id, wal::WorkflowRole::member, 8)));
    log->append(wal::TaskCompleted{{9, 10, 11}});
    log->append(wal::TaskDeadLettered{12, 1, {{1, 1, "no"}}});
    log->append(wal::TaskCancelled{13});
    wal::TaskImage seal = image(8, wal::WorkflowRole::batch, 0);
    seal.workflow.sealed = true;
    log->append(wal::as_ref(seal));
    ASSERT_TRUE(log->sync());
    ASSERT_TRUE(log->compact());
    log->append(wal::TaskCompleted{{14}});
    ASSERT_TRUE(log->close());
  }
  wal::RecoveredState state;
  reopen(&state);
  reopen(&state);  // twice: a checkpoint of a checkpoint adds nothing
  ASSERT_EQ(state.batches.size(), 1u);
  const wal::Workflow& w = state.batches[0].image.workflow;
  EXPECT_TRUE(w.sealed);
  EXPECT_EQ(w.succeeded, 4u);
  EXPECT_EQ(w.dead_lettered, 1u);
  EXPECT_EQ(w.cancelled, 1u);
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[0].task, "report");
  EXPECT_EQ(state.incomplete.size(), 4u) << "members 15..18";
  for (const wal::TaskImage& t : state.incomplete) EXPECT_EQ(t.workflow.batch, 8u);
  {
    std::unique_ptr<wal::Wal> log;
    ASSERT_TRUE(wal::Wal::open(o, &log, &state));
    wal::TaskImage callback = image(30, wal::WorkflowRole::callback, 8);
    callback.workflow.which = wal::Workflow::kOnComplete;
    log->append(wal::as_ref(callback));
    ASSERT_TRUE(log->close());
  }
  reopen(&state);
  ASSERT_EQ(state.batches.size(), 1u);
  EXPECT_EQ(state.batches[0].image.workflow.which, wal::Workflow::kOnComplete) << "its callback was submitted";
  {
    std::unique_ptr<wal::Wal> log;
    ASSERT_TRUE(wal::Wal::open(o, &log, &state));
    log->append(wal::TaskCompleted{{8}});
    ASSERT_TRUE(log->close());
  }
  reopen(&state);
  EXPECT_TRUE(state.batches.empty()) << "done";
}

}  // namespace
}  // namespace brisk
