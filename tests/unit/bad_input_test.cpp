// Bad input through the public API: every answer docs/bad-input.md promises,
// checked for its type or status *and* for the text a user reads.
#include "brisk/brisk.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "wal/log_format.hpp"
#include "wal/records.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test::eventually;
namespace fs = std::filesystem;

// Small and cheap: one unpinned worker, small rings, few task records.
EngineConfig small_config() {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.ring_capacity = 64;
  c.max_named_tasks = 1024;
  c.max_idempotency_keys = 1024;
  return c;
}

// The what() of the ConfigError the constructor throws; any other outcome
// fails the test.
std::string config_error(const EngineConfig& c) {
  try {
    Engine engine(c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "the constructor accepted the configuration";
  return {};
}

// The what() of the ConfigError register_task throws.
template <class F>
std::string register_error(Engine& engine, const std::string& name, F&& handler, const TaskTypeOptions& o = {}) {
  try {
    engine.register_task(name, std::forward<F>(handler), o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "register_task('" << name << "') accepted the input";
  return {};
}

template <class Exception>
std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "nothing was thrown";
  return {};
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/brisk-bad-input-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------- config

TEST(BadInputConfig, WorkersAboveTheLimit) {
  EngineConfig c = small_config();
  c.workers = 5000;
  EXPECT_THAT(config_error(c), HasSubstr("workers must be <= 1024 (got 5000)"));
}

TEST(BadInputConfig, MaxNamedTasksOutOfRange) {
  EngineConfig c = small_config();
  c.max_named_tasks = 0;
  EXPECT_THAT(config_error(c), HasSubstr("max_named_tasks must be in 1..2^31"));
  c.max_named_tasks = (1u << 31) + 1;
  EXPECT_THAT(config_error(c), HasSubstr("max_named_tasks must be in 1..2^31"));
}

TEST(BadInputConfig, MaxPayloadBytesZero) {
  EngineConfig c = small_config();
  c.max_payload_bytes = 0;
  EXPECT_THAT(config_error(c), HasSubstr("max_payload_bytes must be >= 1"));
}

TEST(BadInputConfig, CreditChunkLargerThanCredits) {
  EngineConfig c = small_config();
  c.credits = 10;
  c.credit_chunk = 11;
  EXPECT_THAT(config_error(c), HasSubstr("credit_chunk must be in 1..credits (got 11)"));
}

TEST(BadInputConfig, IdempotencyRetentionNotPositive) {
  EngineConfig c = small_config();
  c.idempotency_retention = 0ns;
  EXPECT_THAT(config_error(c), HasSubstr("idempotency_retention must be > 0"));
  c.idempotency_retention = -1s;
  EXPECT_THAT(config_error(c), HasSubstr("idempotency_retention must be > 0"));
}

TEST(BadInputConfig, MaxIdempotencyKeysZero) {
  EngineConfig c = small_config();
  c.max_idempotency_keys = 0;
  EXPECT_THAT(config_error(c), HasSubstr("max_idempotency_keys must be >= 1"));
}

TEST(BadInputConfig, TimerTickOutOfRange) {
  EngineConfig c = small_config();
  for (const std::chrono::nanoseconds tick : {0ns, 999ns, std::chrono::nanoseconds(1s) + 1ns, -1ns}) {
    c.timer_tick = tick;
    EXPECT_THAT(config_error(c), HasSubstr("timer_tick must be in 1us..1s")) << tick.count() << " ns";
  }
}

TEST(BadInputConfig, MetricsPortOutOfRange) {
  EngineConfig c = small_config();
  for (const int port : {-2, 65536}) {
    c.observability.metrics_port = port;
    EXPECT_THAT(config_error(c), HasSubstr("observability.metrics_port must be -1 (off), 0 (any) or a port number"))
        << port;
  }
}

TEST(BadInputConfig, TraceEventsPerWorkerTooLarge) {
  EngineConfig c = small_config();
  c.observability.trace_events_per_worker = (std::size_t{1} << 26) + 1;
  EXPECT_THAT(config_error(c), HasSubstr("observability.trace_events_per_worker must be <= 2^26"));
}

TEST(BadInputConfig, DeadLetterCapacityZero) {
  EngineConfig c = small_config();
  c.dead_letter_capacity = 0;
  EXPECT_THAT(config_error(c), HasSubstr("dead_letter_capacity must be >= 1"));
}

TEST(BadInputConfig, SegmentBytesTooSmallIsRefusedByTheConstructor) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  EngineConfig c = small_config();
  c.durability.wal_dir = dir;
  c.durability.segment_bytes = 4095;
  EXPECT_THAT(config_error(c), HasSubstr("durability.segment_bytes must be >= 4096 (got 4095)"));
  EXPECT_FALSE(fs::exists(dir)) << "the log directory is not touched";
  // Without a log the field is unused, and not checked.
  c.durability.wal_dir.clear();
  EXPECT_NO_THROW(Engine{c});
}

TEST(BadInputConfig, FsyncIntervalNotPositiveIsRefusedByTheConstructor) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/wal";
  EngineConfig c = small_config();
  c.durability.wal_dir = dir;
  for (const FsyncPolicy policy : {FsyncPolicy::always, FsyncPolicy::interval, FsyncPolicy::never}) {
    c.durability.fsync = policy;
    c.durability.fsync_interval = 0ms;
    EXPECT_THAT(config_error(c), HasSubstr("durability.fsync_interval must be > 0 (got 0 ms)"));
    c.durability.fsync_interval = -5ms;
    EXPECT_THAT(config_error(c), HasSubstr("durability.fsync_interval must be > 0 (got -5 ms)"));
  }
  EXPECT_FALSE(fs::exists(dir)) << "the log directory is not touched";
}

TEST(BadInputConfig, FsyncPolicyOutsideItsEnum) {
  EngineConfig c = small_config();
  c.durability.fsync = static_cast<FsyncPolicy>(7);
  EXPECT_THAT(config_error(c), HasSubstr("durability.fsync must be always, interval or never (got 7)"));
  c.durability.wal_dir = "/nonexistent/wal";  // refused before the directory matters
  EXPECT_THAT(config_error(c), HasSubstr("durability.fsync must be always, interval or never (got 7)"));
}

TEST(BadInputConfig, RecoveryModeOutsideItsEnum) {
  EngineConfig c = small_config();
  c.durability.recovery_mode = static_cast<RecoveryMode>(200);
  EXPECT_THAT(config_error(c),
              HasSubstr("durability.recovery_mode must be tolerate_corrupted_tail_records, absolute_consistency, "
                        "point_in_time or skip_any_corrupted_record (got 200)"));
}

TEST(BadInputConfig, HealthThresholdsMustBeFractions) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {nan, inf, -inf, -0.1, 1.5}) {
    EngineConfig c = small_config();
    c.observability.health.max_error_rate = bad;
    EXPECT_THAT(config_error(c), HasSubstr("observability.health.max_error_rate must be in 0..1 "
                                           "(a fraction of completions, 1: off; got "))
        << bad;
    c = small_config();
    c.observability.health.min_rate_ratio = bad;
    EXPECT_THAT(config_error(c), HasSubstr("observability.health.min_rate_ratio must be in 0..1 "
                                           "(a fraction of the baseline rate, 0: off; got "))
        << bad;
  }
  EngineConfig c = small_config();
  c.observability.health.max_error_rate = nan;
  EXPECT_THAT(config_error(c), HasSubstr("(a fraction of completions, 1: off; got nan)"));
  c.observability.health.max_error_rate = 0.0;  // the ends of the range are accepted
  c.observability.health.min_rate_ratio = 1.0;
  EXPECT_NO_THROW(Engine{c});
}

// Each field in range, the whole far beyond any machine: refused before
// anything is allocated, naming the fields and the bytes.
TEST(BadInputConfig, RingsLargerThanMemory) {
  EngineConfig c = small_config();
  c.workers = 1024;
  c.priority_lanes = 16;
  c.lane_weights.assign(16, 1);
  c.ring_capacity = std::size_t{1} << 24;
  const std::string what = config_error(c);
  EXPECT_THAT(what, HasSubstr("bytes of memory at construction, more than this machine's "));
  // 2^44 bytes: 1024 * 16 * 2^24 slots of one cache line each.
  EXPECT_THAT(what, HasSubstr("rings (workers * priority_lanes * ring_capacity = 1024 * 16 * 16777216 slots) "
                              "17592186044416 bytes"));
}

TEST(BadInputConfig, TraceBuffersLargerThanMemory) {
  EngineConfig c = small_config();
  c.workers = 1024;
  c.observability.trace_events_per_worker = std::size_t{1} << 26;
  // 1024 * 2^26 events of 24 bytes.
  EXPECT_THAT(config_error(c), HasSubstr("trace buffers (workers * observability.trace_events_per_worker = "
                                         "1024 * 67108864 events) 1649267441664 bytes"));
}

// Memory the system refuses although the machine has it (an address-space
// or container limit) is a std::bad_alloc from the constructor, whatever
// the allocator. Under mimalloc, whose throwing operator new aborts, too:
// the child runs with mimalloc preloaded, as a program that links it does.
TEST(BadInputConfig, MemoryTheSystemRefusesIsBadAllocEvenUnderMimalloc) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator cannot be replaced, nor run under an address-space limit";
#endif
  const char* mimalloc = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2";
  if (!fs::exists(mimalloc)) GTEST_SKIP() << mimalloc << " is not installed";
  // The child is a new process (threadsafe style re-executes the test
  // binary), so it starts with the preload; this process keeps its allocator.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const char* preload = std::getenv("LD_PRELOAD");
  const std::string saved = preload != nullptr ? preload : "";
  ::setenv("LD_PRELOAD", mimalloc, 1);
  auto child = [] {
    const bool under_mimalloc = ::dlsym(RTLD_DEFAULT, "mi_version") != nullptr;
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t cap = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGE_SIZE) + (rlim_t{256} << 20);
    const rlimit limit{cap, cap};
    ::setrlimit(RLIMIT_AS, &limit);
    EngineConfig c = small_config();
    c.workers = 2;
    c.ring_capacity = std::size_t{1} << 20;  // 6 rings of 64 MiB: 384 MiB, 256 MiB allowed
    try {
      Engine engine(c);
      std::fprintf(stderr, "constructed\n");
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "mimalloc=%d bad_alloc\n", under_mimalloc);
    }
    std::_Exit(0);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "mimalloc=1 bad_alloc");
  if (preload != nullptr) {
    ::setenv("LD_PRELOAD", saved.c_str(), 1);
  } else {
    ::unsetenv("LD_PRELOAD");
  }
}

// ---------------------------------------------------------------- task types

// After a refused registration the name is still free: nothing half-registered.
void expect_unregistered(Engine& engine, const std::string& name) {
  EXPECT_NO_THROW(engine.register_task(name, [](TaskContext&) {})) << name;
}

TEST(BadInputTaskType, NameLongerThan255Bytes) {
  Engine engine(small_config());
  const std::string long_name(256, 'n');
  EXPECT_THAT(register_error(engine, long_name, [](TaskContext&) {}),
              HasSubstr("task type '" + long_name + "': name longer than 255 bytes"));
  EXPECT_NO_THROW(engine.register_task(std::string(255, 'n'), [](TaskContext&) {})) << "255 bytes is fine";
}

TEST(BadInputTaskType, EmptyHandler) {
  Engine engine(small_config());
  EXPECT_THAT(register_error(engine, "x", Handler{}), HasSubstr("task type 'x': handler is empty"));
  expect_unregistered(engine, "x");
}

TEST(BadInputTaskType, RateAndBurstMustBeFiniteAndNotNegative) {
  Engine engine(small_config());
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  for (const double bad : {-1.0, nan, inf}) {
    TaskTypeOptions o;
    o.burst = bad;
    EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o),
                HasSubstr("task type 'x': burst must be >= 0 and finite"))
        << bad;
    o = {};
    o.rate_per_second = bad;
    EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o),
                HasSubstr("task type 'x': rate_per_second must be >= 0 and finite"))
        << bad;
  }
  expect_unregistered(engine, "x");
}

TEST(BadInputTaskType, NegativeRetryDelaysAndCapBelowBase) {
  Engine engine(small_config());
  TaskTypeOptions o;
  o.retry.base = -1ms;
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o), HasSubstr("task type 'x': retry delays must be >= 0"));
  o = {};
  o.retry.cap = -1ms;
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o), HasSubstr("task type 'x': retry delays must be >= 0"));
  o = {};
  o.retry.base = 10ms;
  o.retry.cap = 5ms;
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o),
              HasSubstr("task type 'x': retry.cap must be >= retry.base"));
  expect_unregistered(engine, "x");
}

TEST(BadInputTaskType, DelaysSoLongTheDeadlineWouldOverflowAreRefused) {
  Engine engine(small_config());
  TaskTypeOptions o;
  o.retry.cap = std::chrono::milliseconds::max();
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o),
              HasSubstr("task type 'x': retry.cap must be <= 100 years"));
  o = {};
  o.hard_timeout = std::chrono::nanoseconds::max();
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o), HasSubstr("task type 'x': timeouts must be <= 100 years"));
  o = {};
  o.soft_timeout = std::chrono::hours(24 * 365 * 101);
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o), HasSubstr("task type 'x': timeouts must be <= 100 years"));
  expect_unregistered(engine, "x");
  // The longest allowed still works end to end: a retry a century away is
  // scheduled (and logged, were the task durable) without overflow.
  o = {};
  o.retry.base = std::chrono::hours(24 * 365 * 100);
  o.retry.cap = o.retry.base;
  o.retry.jitter = false;
  o.hard_timeout = std::chrono::hours(24 * 365 * 100);
  engine.register_task("slow-retry", [](TaskContext&) { return Outcome::retry("later"); }, o);
  engine.start();
  ASSERT_TRUE(engine.submit("slow-retry", "p"));
  for (int i = 0; i < 2000 && engine.stats().pending_timers == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(engine.stats().pending_timers, 1u) << "the retry waits on the timer, a century out";
}

TEST(BadInputTaskType, MoreAttemptsThanADeadLetterRecordCanList) {
  Engine engine(small_config());
  TaskTypeOptions o;
  o.retry.max_attempts = 65537;
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o),
              HasSubstr("task type 'x': retry.max_attempts must be <= 65536"));
  expect_unregistered(engine, "x");
  o.retry.max_attempts = 65536;
  EXPECT_NO_THROW(engine.register_task("y", [](TaskContext&) {}, o));
}

TEST(BadInputTaskType, NegativeTimeouts) {
  Engine engine(small_config());
  TaskTypeOptions o;
  o.soft_timeout = -1ns;
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o), HasSubstr("task type 'x': timeouts must be >= 0"));
  o = {};
  o.hard_timeout = -1ms;
  EXPECT_THAT(register_error(engine, "x", [](TaskContext&) {}, o), HasSubstr("task type 'x': timeouts must be >= 0"));
  expect_unregistered(engine, "x");
}

// ---------------------------------------------------------------- submissions

TEST(BadInputSubmit, ReasonsForInvalidSubmissions) {
  EngineConfig c = small_config();
  c.max_payload_bytes = 16;
  Engine engine(c);
  engine.register_task("ok", [](TaskContext&) {});
  engine.start();
  SubmitResult r = engine.submit("ok", std::string(17, 'x'));
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("payload larger than EngineConfig::max_payload_bytes"));
  TaskOptions o;
  o.priority = 9;
  r = engine.submit("ok", "", o);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("priority out of range (see EngineConfig::priority_lanes)"));
  o = {};
  o.delay = -1s;
  r = engine.submit("ok", "", o);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("negative delay"));
  o = {};
  o.durability = Durability::durable;
  r = engine.submit("ok", "", o);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("a durable submission needs EngineConfig::durability.wal_dir"));
  engine.drain();
  EXPECT_EQ(engine.stats().rejected_invalid, 4u);
  EXPECT_EQ(engine.stats().named_in_flight, 0u);
}

TEST(BadInputSubmit, DelayWhoseDeadlineOverflowsIsRefused) {
  ManualClock clock;  // now = 1 s: now + nanoseconds::max() overflows
  EngineConfig c = small_config();
  c.clock = &clock;
  Engine engine(c);
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  for (const std::chrono::nanoseconds delay :
       {std::chrono::nanoseconds::max(),
        std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::max() - clock.now_ns() + 1)}) {
    TaskOptions o;
    o.delay = delay;
    const SubmitResult r = engine.submit("t", "", o);
    EXPECT_EQ(r.status, SubmitStatus::invalid);
    EXPECT_THAT(std::string(r.reason), HasSubstr("delay too large"));
  }
  // The largest delay that fits is a (very) delayed task, not a refusal.
  TaskOptions fits;
  fits.delay = std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::max() - clock.now_ns());
  const SubmitResult accepted = engine.submit("t", "", fits);
  ASSERT_TRUE(accepted);
  engine.drain();
  EXPECT_EQ(ran.load(), 0) << "an overflowed deadline would have run at once";
  EXPECT_EQ(engine.stats().rejected_invalid, 2u);
  EXPECT_EQ(engine.stats().pending_timers, 1u);
  EXPECT_TRUE(engine.cancel(accepted.id));
}

TEST(BadInputSubmit, RunAtInThePastOrNegativeRunsAtOnce) {
  Engine engine(small_config());
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  for (const std::int64_t at : {std::int64_t{-5}, std::int64_t{0}, std::int64_t{1}}) {
    TaskOptions o;
    o.run_at_ns = at;
    EXPECT_TRUE(engine.submit("t", "", o)) << at;
  }
  engine.drain();
  EXPECT_EQ(ran.load(), 3);
}

TEST(BadInputSubmit, IdempotencyKeyLongerThan1024Bytes) {
  Engine engine(small_config());
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  TaskOptions o;
  o.idempotency_key = std::string(1025, 'k');
  const SubmitResult r = engine.submit("t", "", o);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("idempotency key longer than 1024 bytes"));
  o.idempotency_key = std::string(1024, 'k');
  EXPECT_TRUE(engine.submit("t", "", o)) << "1024 bytes is fine";
  engine.drain();
}

TEST(BadInputSubmit, InvalidTaskTypeHandles) {
  Engine other(small_config());
  other.register_task("a", [](TaskContext&) {});
  other.register_task("b", [](TaskContext&) {});
  const TaskType third = other.register_task("c", [](TaskContext&) {});

  Engine engine(small_config());
  engine.register_task("only", [](TaskContext&) {});
  engine.start();
  for (const TaskType type : {TaskType{}, third}) {
    const SubmitResult r = engine.submit(type, "");
    EXPECT_EQ(r.status, SubmitStatus::invalid);
    EXPECT_THAT(std::string(r.reason), HasSubstr("unknown task name"));
  }
  EXPECT_EQ(engine.stats().named_in_flight, 0u);
}

TEST(BadInputSubmit, ProducerWithEmptyNameKeepsItsCredit) {
  EngineConfig c = small_config();
  c.credits = 8;
  c.credit_chunk = 4;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  Producer producer = engine.make_producer();
  const SubmitResult r = producer.submit("", "");
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("unknown task name"));
  EXPECT_EQ(producer.credits(), 4) << "the refused submission spent no credit";
}

TEST(BadInputSubmit, PostBulkWithABadPriorityQueuesNothing) {
  Engine engine(small_config());
  engine.start();
  std::atomic<int> ran{0};
  std::vector<std::function<void()>> jobs(10, [&] { ran.fetch_add(1); });
  const BulkResult r = engine.post_bulk(jobs.begin(), jobs.end(), 3);  // lanes 0..2
  EXPECT_EQ(r.accepted, 0u);
  EXPECT_EQ(r.first_refusal, SubmitStatus::invalid);
  engine.drain();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(engine.stats().rejected_invalid, 10u);
}

TEST(BadInputSubmit, MaxNamedTasksInFlight) {
  ManualClock clock;  // the delayed tasks never come due
  EngineConfig c = small_config();
  c.clock = &clock;
  c.max_named_tasks = 2;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  TaskOptions later;
  later.delay = 1h;
  ASSERT_TRUE(engine.submit("t", "", later));
  ASSERT_TRUE(engine.submit("t", "", later));
  const SubmitResult r = engine.submit("t", "");
  EXPECT_EQ(r.status, SubmitStatus::rejected_full);
  EXPECT_THAT(std::string(r.reason), HasSubstr("max_named_tasks tasks in flight"));
  EXPECT_EQ(engine.stats().named_in_flight, 2u) << "the two accepted tasks are kept";
  EXPECT_EQ(engine.stats().rejected_full, 1u);
}

// Submits a task of type "t" with the idempotency key prefix + i.
SubmitResult submit_keyed(Engine& engine, const std::string& prefix, int i) {
  TaskOptions o;
  o.idempotency_key = prefix + std::to_string(i);
  return engine.submit("t", "", o);
}

TEST(BadInputSubmit, MaxIdempotencyKeysRemembered) {
  // The bound is exact across the index's shards: three keys fit, the
  // fourth is refused, whichever shards they hash to.
  EngineConfig c = small_config();
  c.max_idempotency_keys = 3;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(submit_keyed(engine, "key-", i)) << i;
  for (int i = 3; i < 40; ++i) {
    const SubmitResult r = submit_keyed(engine, "key-", i);
    EXPECT_EQ(r.status, SubmitStatus::rejected_full) << i;
    EXPECT_THAT(std::string(r.reason), HasSubstr("max_idempotency_keys keys remembered"));
  }
  EXPECT_EQ(engine.stats().rejected_full, 37u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(submit_keyed(engine, "key-", i).status, SubmitStatus::duplicate) << "no key is forgotten early: " << i;
  }
  engine.drain();
}

TEST(BadInputSubmit, ExpiredKeysInOtherShardsMakeRoomForANewOne) {
  ManualClock clock;
  EngineConfig c = small_config();
  c.clock = &clock;
  c.max_idempotency_keys = 8;
  c.idempotency_retention = 1s;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(submit_keyed(engine, "old-", i));
  EXPECT_EQ(submit_keyed(engine, "fresh-", 0).status, SubmitStatus::rejected_full);
  clock.advance(2s);
  // Every old key has expired; most sit in shards a new key does not touch.
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(submit_keyed(engine, "fresh-", i)) << i;
  engine.drain();
}

TEST(BadInputSubmit, RingsFullForANamedTaskReleasesItsKey) {
  // Never started: nothing takes from the rings, so they fill deterministically.
  EngineConfig c = small_config();
  c.ring_capacity = 2;  // one shard, one ring per lane
  Engine engine(c);
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  ASSERT_TRUE(engine.submit("t", "1"));
  ASSERT_TRUE(engine.submit("t", "2"));
  TaskOptions keyed;
  keyed.idempotency_key = "k";
  const SubmitResult r = engine.submit("t", "3", keyed);
  EXPECT_EQ(r.status, SubmitStatus::rejected_full);
  EXPECT_THAT(std::string(r.reason), HasSubstr("rings full"));
  EXPECT_EQ(engine.stats().named_in_flight, 2u);
  engine.drain();  // before start(): runs what the rings hold, here
  EXPECT_EQ(ran.load(), 2);
  EXPECT_TRUE(engine.submit("t", "3", keyed)) << "the refused submission did not keep its key";
  engine.drain();
  EXPECT_EQ(ran.load(), 3);
}

TEST(BadInputSubmit, InvalidSubmissionOnAProducerWithoutCreditsIsBackpressure) {
  EngineConfig c = small_config();
  c.credits = 1;
  c.credit_chunk = 1;
  Engine engine(c);  // not started: the one credit stays spent
  engine.register_task("t", [](TaskContext&) {});
  Producer producer = engine.make_producer();
  ASSERT_EQ(producer.post([] {}), SubmitStatus::accepted);
  const SubmitResult r = producer.submit("no such task", "");
  EXPECT_EQ(r.status, SubmitStatus::rejected_backpressure) << "the credit check comes before validation";
  EXPECT_THAT(std::string(r.reason), HasSubstr("no credits: retry after the hint"));
  EXPECT_GE(r.retry_after.count(), 1);
  engine.drain();
}

TEST(BadInputHttp, MetricsHostThatIsNotAnAddressOfThisMachine) {
  EngineConfig c = small_config();
  c.observability.metrics_port = 0;
  c.observability.metrics_host = "192.0.2.1";  // TEST-NET-1 (RFC 5737): never a local address
  Engine engine(c);
  EXPECT_THAT(what_of<std::runtime_error>([&] { engine.start(); }),
              HasSubstr("metrics server cannot bind 192.0.2.1:0"));
  EXPECT_EQ(engine.metrics_port(), 0);
}

// ---------------------------------------------------------------- lifecycle

TEST(BadInputLifecycle, EverySubmitPathAfterShutdownIsRefused) {
  EngineConfig c = small_config();
  c.credits = 8;
  c.credit_chunk = 4;
  Engine engine(c);
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  Producer producer = engine.make_producer();
  ASSERT_EQ(producer.post([&] { ran.fetch_add(1); }), SubmitStatus::accepted);
  engine.shutdown();
  EXPECT_EQ(ran.load(), 1) << "accepted before shutdown: ran";

  std::vector<std::function<void()>> jobs(5, [&] { ran.fetch_add(1); });
  const BulkResult bulk = engine.post_bulk(jobs.begin(), jobs.end());
  EXPECT_EQ(bulk.accepted, 0u);
  EXPECT_EQ(bulk.first_refusal, SubmitStatus::rejected_shutdown);

  const SubmitResult r = engine.submit("t", "");
  EXPECT_EQ(r.status, SubmitStatus::rejected_shutdown);
  EXPECT_THAT(std::string(r.reason), HasSubstr("engine is shutting down"));

  const std::int64_t credits = producer.credits();
  EXPECT_EQ(producer.post([&] { ran.fetch_add(1); }), SubmitStatus::rejected_shutdown);
  const SubmitResult pr = producer.submit("t", "");
  EXPECT_EQ(pr.status, SubmitStatus::rejected_shutdown);
  EXPECT_THAT(std::string(pr.reason), HasSubstr("engine is shutting down"));
  EXPECT_EQ(producer.credits(), credits) << "refused after shutdown: no credit spent";
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(engine.stats().rejected_shutdown, 5u + 1 + 1 + 1);
}

TEST(BadInputLifecycle, StartAfterShutdownThrows) {
  Engine engine(small_config());
  engine.start();
  engine.shutdown();
  EXPECT_THAT(what_of<std::logic_error>([&] { engine.start(); }),
              HasSubstr("brisk::Engine::start() after shutdown()"));
  EXPECT_EQ(engine.post([] {}), SubmitStatus::rejected_shutdown) << "the engine stays stopped";
}

TEST(BadInputLifecycle, SecondStartIsANoOp) {
  ManualClock clock;
  EngineConfig c = small_config();
  c.clock = &clock;
  Engine engine(c);
  engine.start();
  clock.advance(5s);
  EXPECT_NO_THROW(engine.start());
  EXPECT_EQ(engine.stats().uptime_ns, 5'000'000'000u) << "the second start() did not restart anything";
  std::atomic<int> ran{0};
  ASSERT_EQ(engine.post([&] { ran.fetch_add(1); }), SubmitStatus::accepted);
  engine.drain();
  EXPECT_EQ(ran.load(), 1);
}

TEST(BadInputLifecycle, DrainBeforeStartRunsWhatTheRingsHoldOnTheCallingThread) {
  Engine engine(small_config());
  std::vector<std::thread::id> ran_on;
  engine.register_task("t", [&](TaskContext&) { ran_on.push_back(std::this_thread::get_id()); });
  ASSERT_EQ(engine.post([&] { ran_on.push_back(std::this_thread::get_id()); }), SubmitStatus::accepted);
  ASSERT_TRUE(engine.submit("t", ""));
  engine.drain();
  ASSERT_EQ(ran_on.size(), 2u);
  for (const auto& id : ran_on) EXPECT_EQ(id, std::this_thread::get_id());
}

// `call` (drain or shutdown) made from inside a closure and from inside a
// named task's handler: each throws std::logic_error with `message`, the
// named attempt fails with it, and the engine keeps accepting and running.
void expect_refused_from_a_task(const std::function<void(Engine&)>& call, const std::string& message) {
  Engine engine(small_config());
  TaskTypeOptions once;
  once.retry.max_attempts = 1;
  engine.register_task("calls", [&](TaskContext&) { call(engine); }, once);
  engine.start();
  std::string closure_error;
  ASSERT_EQ(engine.post([&] {
    try {
      call(engine);
    } catch (const std::logic_error& e) {
      closure_error = e.what();
    }
  }),
            SubmitStatus::accepted);
  ASSERT_TRUE(engine.submit("calls", ""));
  engine.drain();
  EXPECT_THAT(closure_error, HasSubstr(message));
  const std::vector<DeadLetter> letters = engine.dead_letters();
  ASSERT_EQ(letters.size(), 1u) << "the named task's attempt failed with the error";
  ASSERT_EQ(letters[0].failures.size(), 1u);
  EXPECT_THAT(letters[0].failures[0].message, HasSubstr(message));
  // Still accepting and running: the refused call changed nothing.
  std::atomic<int> ran{0};
  ASSERT_EQ(engine.post([&] { ran.fetch_add(1); }), SubmitStatus::accepted);
  engine.drain();
  EXPECT_EQ(ran.load(), 1) << "the engine keeps running";
  engine.shutdown();  // and the real one works
  EXPECT_EQ(engine.post([] {}), SubmitStatus::rejected_shutdown);
}

TEST(BadInputLifecycle, DrainFromATaskThrowsAndTheEngineGoesOn) {
  expect_refused_from_a_task([](Engine& e) { e.drain(); }, "brisk::Engine::drain() called from a task");
}

TEST(BadInputLifecycle, ShutdownFromATaskThrowsAndChangesNothing) {
  expect_refused_from_a_task([](Engine& e) { e.shutdown(); }, "brisk::Engine::shutdown() called from a task");
}

TEST(BadInputLifecycle, DestroyingAStartedEngineFromItsOwnTaskStopsTheProcessSayingWhy) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes the test: the engine's threads start in the child
  auto child = [] {
    auto* engine = new Engine(small_config());
    engine->start();
    std::atomic<bool> done{false};
    engine->post([&] {
      delete engine;
      done = true;
    });
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  EXPECT_DEATH(child(), "brisk: a started Engine was destroyed from inside a task");
}

TEST(BadInputLifecycle, CancelOfARunningTaskReturnsFalseAndRequestsCancellation) {
  Engine engine(small_config());
  std::atomic<bool> started{false}, saw_request{false};
  engine.register_task("long", [&](TaskContext& t) {
    started = true;
    saw_request = eventually([&] { return t.cancellation_requested(); });
  });
  engine.start();
  const SubmitResult r = engine.submit("long", "");
  ASSERT_TRUE(r);
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_FALSE(engine.cancel(r.id)) << "running: too late to cancel";
  engine.drain();
  EXPECT_TRUE(saw_request.load()) << "the handler saw cancellation_requested()";
  const EngineStats s = engine.stats();
  ASSERT_EQ(s.task_types.size(), 1u);
  EXPECT_EQ(s.task_types[0].succeeded, 1u) << "it ran to its end";
  EXPECT_EQ(s.task_types[0].cancelled, 0u);
}

TEST(BadInputLifecycle, RefusedReplayKeepsTheLetter) {
  Engine engine(small_config());
  engine.register_task("fails", [](TaskContext&) { return Outcome::fail("broken"); });
  engine.start();
  ASSERT_TRUE(engine.submit("fails", "payload"));
  engine.drain();
  ASSERT_EQ(engine.dead_letter_count(), 1u);
  const TaskId id = engine.dead_letters()[0].id;

  const SubmitResult unknown = engine.replay_dead_letter(id + 12345);
  EXPECT_EQ(unknown.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(unknown.reason), HasSubstr("no dead letter with that id"));

  engine.shutdown();
  for (int i = 0; i < 2; ++i) {  // refused again: the letter is still there under its id
    const SubmitResult r = engine.replay_dead_letter(id);
    EXPECT_EQ(r.status, SubmitStatus::rejected_shutdown);
    EXPECT_THAT(std::string(r.reason), HasSubstr("engine is shutting down"));
    const std::vector<DeadLetter> letters = engine.dead_letters();
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].id, id);
    EXPECT_EQ(letters[0].payload, "payload");
  }
}

// ---------------------------------------------------------------- write-ahead log

class BadInputWal : public ::testing::Test {
 protected:
  EngineConfig config(const std::string& dir) {
    EngineConfig c = small_config();
    c.clock = &clock;
    c.durability.wal_dir = dir;
    return c;
  }
  TempDir tmp;
  ManualClock clock;
};

TEST_F(BadInputWal, ParentDirectoryMissing) {
  const std::string dir = tmp.path() + "/missing/wal";
  Engine engine(config(dir));
  const std::string what = what_of<RecoveryError>([&] { engine.start(); });
  EXPECT_THAT(what, HasSubstr("'" + dir + "'"));
  EXPECT_THAT(what, HasSubstr("mkdir " + dir + ": No such file or directory"));
  EXPECT_FALSE(fs::exists(tmp.path() + "/missing"));
}

TEST_F(BadInputWal, DirectoryIsARegularFile) {
  const std::string file = tmp.path() + "/not-a-dir";
  std::ofstream(file) << "hello";
  Engine engine(config(file));
  const std::string what = what_of<RecoveryError>([&] { engine.start(); });
  EXPECT_THAT(what, HasSubstr("'" + file + "'"));
  EXPECT_THAT(what, HasSubstr("Not a directory"));
  std::ifstream in(file);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "hello") << "the file is untouched";
}

TEST_F(BadInputWal, TwoEnginesOnOneDirectory) {
  const std::string dir = tmp.path() + "/wal";
  auto first = std::make_unique<Engine>(config(dir));
  first->register_task("t", [](TaskContext&) {});
  first->start();
  TaskOptions later;
  later.delay = 1h;
  ASSERT_TRUE(first->wait_durable(first->submit("t", "kept", later)));

  Engine second(config(dir));
  second.register_task("t", [](TaskContext&) {});
  const std::string what = what_of<RecoveryError>([&] { second.start(); });
  EXPECT_THAT(what, HasSubstr("'" + dir + "'"));
  EXPECT_THAT(what, HasSubstr("in use by another engine"));

  // The refused engine touched nothing: the first goes on logging.
  EXPECT_TRUE(first->wait_durable(first->submit("t", "also kept", later)));
  EXPECT_FALSE(first->stats().wal_failed);
  first.reset();

  // A refused start() holds nothing either: the same engine starts once the
  // directory is free, and finds both tasks.
  second.start();
  EXPECT_EQ(second.recovery_report().tasks_requeued, 2u);
}

TEST_F(BadInputWal, OversizedDurableRecordIsInvalidAndTheLogGoesOn) {
  EngineConfig c = config(tmp.path() + "/wal");
  c.max_payload_bytes = 65u << 20;  // above the log's 64 MiB record limit
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  TaskOptions o;
  o.idempotency_key = "big";
  const SubmitResult r = engine.submit("t", std::string(detail::wal::kMaxPayloadSize, 'x'), o);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("64 MiB record limit"));
  EXPECT_FALSE(engine.stats().wal_failed);
  EXPECT_EQ(engine.stats().durability_failures, 0u);
  // The key was not taken, and the log takes the next record.
  const SubmitResult small = engine.submit("t", "small", o);
  ASSERT_TRUE(small);
  EXPECT_TRUE(engine.wait_durable(small));
  // In memory the same payload is fine: the limit is the log's.
  o = {};
  o.durability = Durability::memory;
  EXPECT_TRUE(engine.submit("t", std::string(detail::wal::kMaxPayloadSize, 'x'), o));
  // A payload that would fit only while the task's id, due time and attempt
  // count are small (they are varints) is refused up front too: logged with
  // a real id, or later with a retry's attempt and due time, it would not fit.
  std::string edge(detail::wal::kMaxPayloadSize, 'x');
  detail::wal::TaskImageRef smallest;
  smallest.type_name = "t";
  smallest.payload = edge;
  while (detail::wal::encoded_size(smallest) > detail::wal::kMaxPayloadSize) {
    edge.pop_back();
    smallest.payload = edge;
  }
  const SubmitResult at_edge = engine.submit("t", edge);
  EXPECT_EQ(at_edge.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(at_edge.reason), HasSubstr("64 MiB record limit"));
  EXPECT_EQ(engine.stats().durability_failures, 0u);
  EXPECT_FALSE(engine.stats().wal_failed);
  engine.drain();
}

TEST_F(BadInputWal, MoreIncompleteTasksThanMaxNamedTasks) {
  const std::string dir = tmp.path() + "/wal";
  {
    Engine engine(config(dir));
    engine.register_task("t", [](TaskContext&) {});
    engine.start();
    TaskOptions later;
    later.delay = 1h;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine.wait_durable(engine.submit("t", "", later)));
  }
  EngineConfig c = config(dir);
  c.max_named_tasks = 2;
  {
    Engine engine(c);
    engine.register_task("t", [](TaskContext&) {});
    EXPECT_THAT(what_of<RecoveryError>([&] { engine.start(); }),
                HasSubstr("brisk: the log holds more incomplete tasks than max_named_tasks (2)"));
  }
  Engine engine(config(dir));  // the tasks stayed in the log
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  EXPECT_EQ(engine.recovery_report().tasks_requeued, 5u);
}

TEST_F(BadInputWal, TornTailUnderAbsoluteConsistency) {
  const std::string dir = tmp.path() + "/wal";
  {
    Engine engine(config(dir));
    engine.register_task("t", [](TaskContext&) {});
    engine.start();
    TaskOptions later;
    later.delay = 1h;
    ASSERT_TRUE(engine.wait_durable(engine.submit("t", "", later)));
  }
  std::string newest;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("wal-") && name.ends_with(".log") && name > newest) newest = name;
  }
  ASSERT_FALSE(newest.empty());
  std::ofstream(fs::path(dir) / newest, std::ios::app | std::ios::binary) << "\x01\x02\x03";  // a cut-short header
  const auto size = fs::file_size(fs::path(dir) / newest);
  EngineConfig strict = config(dir);
  strict.durability.recovery_mode = RecoveryMode::absolute_consistency;
  {
    Engine engine(strict);
    engine.register_task("t", [](TaskContext&) {});
    const std::string what = what_of<RecoveryError>([&] { engine.start(); });
    EXPECT_THAT(what, HasSubstr("'" + dir + "'"));
    EXPECT_THAT(what, HasSubstr(newest));
    EXPECT_THAT(what, HasSubstr("(torn tail; recovery mode absolute_consistency refuses it)"));
  }
  EXPECT_EQ(fs::file_size(fs::path(dir) / newest), size) << "the log is untouched";
  Engine engine(config(dir));  // the default mode cuts it
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  ASSERT_EQ(engine.recovery_report().damage.size(), 1u);
  EXPECT_THAT(engine.recovery_report().damage[0], HasSubstr("truncated header (3 bytes cut)"));
  EXPECT_EQ(engine.recovery_report().tasks_requeued, 1u);
}

TEST_F(BadInputWal, TaskLoggedAtAPriorityTheRestartedEngineLacksRunsAtNormal) {
  const std::string dir = tmp.path() + "/wal";
  {
    EngineConfig five = config(dir);
    five.priority_lanes = 5;
    five.lane_weights = {8, 4, 2, 1, 1};
    Engine engine(five);
    engine.register_task("t", [](TaskContext&) {});
    engine.start();
    TaskOptions o;
    o.delay = 1s;
    o.priority = 4;
    ASSERT_TRUE(engine.wait_durable(engine.submit("t", "", o)));
  }
  Engine engine(config(dir));  // three lanes
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  ASSERT_EQ(engine.recovery_report().tasks_requeued, 1u);
  clock.advance(2s);
  ASSERT_TRUE(eventually([&] {
    engine.drain();
    return ran.load() == 1;
  }));
  const EngineStats s = engine.stats();
  ASSERT_EQ(s.lanes.size(), 3u);
  EXPECT_EQ(s.lanes[priority::normal].accepted, 1u);
}

TEST(BadInputWalRecords, EncodedSizeMatchesTheEncoder) {
  detail::wal::TaskImageRef image;
  image.type_name = "type";
  image.payload = std::string_view("payload bytes");
  image.idempotency_key = "key";
  std::string out;
  detail::wal::encode(out, image);
  EXPECT_EQ(detail::wal::encoded_size(image), out.size());
}

TEST_F(BadInputWal, DeadlineThatOverflowsAsWallClockTimeIsRefused) {
  Engine engine(config(tmp.path() + "/wal"));
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  TaskOptions o;
  o.run_at_ns = std::numeric_limits<std::int64_t>::max();
  const SubmitResult r = engine.submit("t", "", o);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_THAT(std::string(r.reason), HasSubstr("overflows int64"));
  // Kept in memory, the same deadline is fine: only the log converts it.
  o.durability = Durability::memory;
  const SubmitResult memory = engine.submit("t", "", o);
  ASSERT_TRUE(memory);
  EXPECT_TRUE(engine.cancel(memory.id));
}

TEST_F(BadInputWal, PointInTimeReportsTheFilesItDidNotRead) {
  const std::string dir = tmp.path() + "/wal";
  EngineConfig c = config(dir);
  c.durability.segment_bytes = 4096;  // many small segments
  {
    Engine engine(c);
    engine.register_task("t", [](TaskContext&) {});
    engine.start();
    TaskOptions later;
    later.delay = 1h;
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(engine.wait_durable(engine.submit("t", std::string(100, 'x'), later)));
  }
  // The log files in read order: the checkpoint (if any) first, then segments.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (detail::wal::parse_file_name(name)) files.push_back(name);
  }
  std::sort(files.begin(), files.end());  // "checkpoint-..." sorts before "wal-..."
  ASSERT_GE(files.size(), 2u);
  // Damage the first file: point_in_time stops there and reads no later file.
  const fs::path victim = fs::path(dir) / files[0];
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    f.write("\xde\xad\xbe\xef", 4);
  }
  std::uint64_t later_bytes = 0;
  for (std::size_t i = 1; i < files.size(); ++i) later_bytes += fs::file_size(fs::path(dir) / files[i]);

  c.durability.recovery_mode = RecoveryMode::point_in_time;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  const RecoveryReport& report = engine.recovery_report();
  ASSERT_EQ(report.damage.size(), files.size()) << "one line for the damage, one per file not read";
  EXPECT_THAT(report.damage[0], HasSubstr(files[0]));
  for (std::size_t i = 1; i < files.size(); ++i) {
    EXPECT_THAT(report.damage[i], HasSubstr(files[i] + ": not read, recovery stopped at earlier damage"));
    EXPECT_THAT(report.damage[i], HasSubstr("kept as " + files[i] + ".damaged"));
    EXPECT_TRUE(fs::exists(fs::path(dir) / (files[i] + ".damaged")));
  }
  EXPECT_GE(report.bytes_dropped, later_bytes) << "the files not read count as dropped";
  EXPECT_LT(report.tasks_requeued, 200u);
}

}  // namespace
}  // namespace brisk
