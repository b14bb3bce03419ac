// submit() throughput of named tasks kept in memory (Durability::memory): a
// TaskRecord taken from and given back to the TaskTable, the task's state
// transitions, its type's counters, the payload moved in. Against BM_Post,
// what a named task costs over a closure. items_per_second is tasks
// accepted and run. Argument: 0 with the finished-task store off
// (task_status.max_finished = 0), 1 with it on at the default 65,536: what
// remembering every finished task for status() costs.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

brisk::EngineConfig keeping(bool finished_states, unsigned workers) {
  brisk::EngineConfig c;
  c.task_status.max_finished = finished_states ? 65'536 : 0;  // 0: off (the default is on)
  if (workers != 0) c.workers = workers;
  return c;
}

struct NamedEngine {
  brisk::Engine engine;
  brisk::TaskType noop;
  // For BM_RunNamedBacklog: "hold" keeps a worker until `go`, "last" marks the end.
  std::atomic<bool> held{false}, go{false}, last_ran{false};
  brisk::TaskType hold = engine.register_task("hold", [this](brisk::TaskContext&) {
    held.store(true);
    while (!go.load()) std::this_thread::yield();
  });
  brisk::TaskType last = engine.register_task("last", [this](brisk::TaskContext&) { last_ran.store(true); });
  NamedEngine(bool finished_states, unsigned workers)
      : engine(keeping(finished_states, workers)), noop(engine.register_task("noop", [](brisk::TaskContext&) {})) {
    engine.start();
  }
};

// One engine per configuration, made on first use and kept (the others
// park: an engine idle since its last benchmark takes no CPU).
NamedEngine& named_engine(bool finished_states, unsigned workers = 0) {
  static NamedEngine* engines[2][3] = {};
  NamedEngine*& e = engines[finished_states ? 1 : 0][workers];
  if (e == nullptr) e = new NamedEngine(finished_states, workers);
  return *e;
}

void BM_SubmitNamed(benchmark::State& state) {
  NamedEngine& named = named_engine(state.range(0) != 0);
  brisk::TaskOptions memory;
  memory.durability = brisk::Durability::memory;
  std::uint64_t submitted = 0;
  for (auto _ : state) {
    // Rings full or max_named_tasks in flight: wait for the workers.
    while (!named.engine.submit(named.noop, std::string(), memory)) std::this_thread::yield();
    ++submitted;
  }
  if (state.thread_index() == 0) named.engine.drain();
  state.SetItemsProcessed(static_cast<std::int64_t>(submitted));
}
BENCHMARK(BM_SubmitNamed)->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

// The same with one worker beside the one producer, each with a CPU of its
// own on a 2-CPU machine. Still 2.5-6M/s run to run, and a faster worker
// parks and must be woken more often: for what remembering costs a worker,
// see BM_RunNamedBacklog.
void BM_SubmitNamedOneWorker(benchmark::State& state) {
  NamedEngine& named = named_engine(state.range(0) != 0, 1);
  brisk::TaskOptions memory;
  memory.durability = brisk::Durability::memory;
  for (auto _ : state) {
    while (!named.engine.submit(named.noop, std::string(), memory)) std::this_thread::yield();
  }
  named.engine.drain();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SubmitNamedOneWorker)->Arg(0)->Arg(1)->UseRealTime();

// What a worker spends per empty named task, alone: a backlog of tasks is
// queued behind a task that holds the one worker, then the time from
// letting it go to the last task's end is taken. No producer competes and
// no park or wake-up is timed, so the difference between /0 and /1 is what
// remembering finished tasks costs the worker (BM_SubmitNamedOneWorker
// times the pair of threads, and there a faster worker parks and must be
// woken more often: its /0 can run slower than its /1).
void BM_RunNamedBacklog(benchmark::State& state) {
  NamedEngine& named = named_engine(state.range(0) != 0, 1);
  constexpr int kBacklog = 4096;
  std::atomic<bool>& held = named.held;
  std::atomic<bool>& go = named.go;
  std::atomic<bool>& last_ran = named.last_ran;
  brisk::TaskOptions memory;
  memory.durability = brisk::Durability::memory;
  std::int64_t ran = 0;
  for (auto _ : state) {
    state.PauseTiming();
    held.store(false), go.store(false), last_ran.store(false);
    while (!named.engine.submit(named.hold, std::string(), memory)) std::this_thread::yield();
    while (!held.load()) std::this_thread::yield();
    // The worker is held: a refusal here would never clear.
    for (int i = 0; i < kBacklog; ++i) {
      if (!named.engine.submit(i + 1 < kBacklog ? named.noop : named.last, std::string(), memory)) {
        go.store(true);
        state.SkipWithError("backlog refused: lower kBacklog");
        return;
      }
    }
    state.ResumeTiming();
    go.store(true);
    while (!last_ran.load()) std::this_thread::yield();
    ran += kBacklog;
  }
  named.engine.drain();
  state.SetItemsProcessed(ran);
}
BENCHMARK(BM_RunNamedBacklog)->Arg(0)->Arg(1)->UseRealTime();

// Engine::status() of a finished task, with 65,536 remembered: the index
// lookup, the slot's seqlock read, the retention check. range(0): tasks
// that finished since the last lookup, which it indexes first (the
// workers leave indexing to the readers; with more than zero it also
// reads every writer's cursor between two writes). Their submitting and running are not timed.
void BM_StatusLookup(benchmark::State& state) {
  NamedEngine& named = named_engine(true);
  const auto finished_between = static_cast<int>(state.range(0));
  brisk::TaskOptions memory;
  memory.durability = brisk::Durability::memory;
  std::vector<brisk::TaskId> ids;
  for (int i = 0; i < 50'000; ++i) {
    brisk::SubmitResult r;
    while (!(r = named.engine.submit(named.noop, std::string(), memory))) std::this_thread::yield();
    ids.push_back(r.id);
  }
  named.engine.drain();
  std::uint64_t seed = 0x9E3779B97F4A7C15ull;
  std::size_t known = 0;
  std::size_t next_replaced = 0;
  for (auto _ : state) {
    if (finished_between > 0) {
      state.PauseTiming();
      // Into the ids asked for, replacing the oldest: every lookup asks
      // for a task still remembered, as in the idle case.
      for (int i = 0; i < finished_between; ++i) {
        brisk::SubmitResult r;
        while (!(r = named.engine.submit(named.noop, std::string(), memory))) std::this_thread::yield();
        ids[next_replaced++ % ids.size()] = r.id;
      }
      named.engine.drain();
      state.ResumeTiming();
    }
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const brisk::TaskInfo info = named.engine.status(ids[(seed >> 33) % ids.size()]);
    known += info.state == brisk::TaskState::succeeded ? 1 : 0;
  }
  if (known != static_cast<std::size_t>(state.iterations())) state.SkipWithError("a finished task was not found");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StatusLookup)->Arg(0)->Arg(1000);

// submit() with a payload of range(0) bytes from a caller that holds the
// bytes in its own buffer (a request body, say). range(1) 0: handed over
// as a std::string built for the call (it allocates past 15 bytes); 1: as
// a std::string_view, copied into the task record's kept buffer. Below
// TaskTable::kKeptPayloadBytes a released record keeps its buffer; above it
// every task allocates and frees one either way.
void BM_SubmitPayload(benchmark::State& state) {
  NamedEngine& named = named_engine(false);
  const std::string bytes(static_cast<std::size_t>(state.range(0)), 'x');
  const bool view = state.range(1) != 0;
  brisk::TaskOptions memory;
  memory.durability = brisk::Durability::memory;
  for (auto _ : state) {
    if (view) {
      while (!named.engine.submit(named.noop, std::string_view(bytes), memory)) std::this_thread::yield();
    } else {
      while (!named.engine.submit(named.noop, std::string(bytes), memory)) std::this_thread::yield();
    }
  }
  named.engine.drain();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SubmitPayload)->ArgsProduct({{0, 64, 1024, 16384}, {0, 1}})->ArgNames({"bytes", "view"})->UseRealTime();

}  // namespace
