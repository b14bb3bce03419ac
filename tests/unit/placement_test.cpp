// Default placement (issue 22): the worker count and pinning follow the
// affinity mask and the cgroup CPU quota, not hardware_concurrency(). Not
// timed: checks what the engine's config() says it will use.
#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "brisk/brisk.hpp"
#include "platform/cpu_affinity.hpp"

namespace brisk {
namespace {

using detail::allowed_cpus;

// Runs f on a thread whose affinity mask is only `cpu`.
template <class F>
void on_one_cpu(int cpu, F f) {
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
    f();
  });
  t.join();
}

TEST(Placement, DefaultWorkersFollowARestrictedAffinityMask) {
  const std::vector<int> all = allowed_cpus();
  ASSERT_FALSE(all.empty());
  const int last = all.back();
  on_one_cpu(last, [&] {
    EngineConfig c;  // defaults read on this (restricted) thread
    EXPECT_EQ(c.workers, 1u);
    EXPECT_FALSE(c.pin_workers);  // the default: unpinned
    Engine engine(c);
    EXPECT_EQ(engine.config().workers, 1u);
    EXPECT_TRUE(engine.config().cpus.empty());
  });
  // Unrestricted, the default is one worker per allowed CPU (capped by a
  // cgroup quota, when the process has one).
  EXPECT_EQ(EngineConfig{}.workers, detail::fitting_workers(all.size(), detail::cgroup_cpu_limit()));
}

TEST(Placement, PinningFollowsARestrictedAffinityMask) {
  const std::vector<int> all = allowed_cpus();
  const int last = all.back();
  on_one_cpu(last, [&] {
    EngineConfig c;
    c.pin_workers = true;
    c.observability.record_latency = true;
    Engine engine(c);
    EXPECT_EQ(engine.config().cpus, std::vector<int>{last});
    engine.start();
    engine.post([] {});
    engine.drain();
    for (const WorkerStats& w : engine.stats().workers) EXPECT_EQ(w.cpu, last);
  });
}

TEST(Placement, ReservedCoresOutsideTheMaskAreRefused) {
  const std::vector<int> all = allowed_cpus();
  if (all.size() < 2) GTEST_SKIP() << "needs two CPUs";
  on_one_cpu(all.front(), [&] {
    EngineConfig c;
    c.pin_workers = true;
    c.cpus = {all.back()};
    EXPECT_THROW(Engine{c}, ConfigError);
  });
}

TEST(Placement, WorkersFitTheCgroupQuota) {
  EXPECT_EQ(detail::fitting_workers(8, 0), 8u);     // no quota
  EXPECT_EQ(detail::fitting_workers(8, 1.5), 2u);   // 1.5 CPUs: 2 workers
  EXPECT_EQ(detail::fitting_workers(8, 2.0), 2u);
  EXPECT_EQ(detail::fitting_workers(8, 0.2), 1u);
  EXPECT_EQ(detail::fitting_workers(2, 16), 2u);    // the mask is smaller
  EXPECT_EQ(detail::fitting_workers(0, 0), 1u);
}

TEST(Placement, ParsesCgroupFiles) {
  EXPECT_DOUBLE_EQ(detail::parse_cpu_max("150000 100000\n"), 1.5);
  EXPECT_EQ(detail::parse_cpu_max("max 100000\n"), 0);
  EXPECT_EQ(detail::parse_cpu_max(""), 0);
  EXPECT_EQ(detail::cgroup_v2_path("12:cpu,cpuacct:/x\n0::/system.slice/app.service\n"),
            "/system.slice/app.service");
  EXPECT_EQ(detail::cgroup_v2_path("1:cpu:/\n"), "");
  EXPECT_EQ(detail::cgroup2_mount("24 30 0:22 / /proc rw - proc proc rw\n"
                                  "35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"),
            "/sys/fs/cgroup/unified");
  EXPECT_EQ(detail::cgroup2_mount("24 30 0:22 / /proc rw - proc proc rw\n"), "");
}

}  // namespace
}  // namespace brisk
