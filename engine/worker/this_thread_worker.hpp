// this_thread_worker(): which engine's worker the calling thread is, if any.
//
// A thread-local, because the question is asked by calls a task makes into
// the public API (post, submit, wait, drain, shutdown, ~Engine), whose
// callers cannot pass anything in: post() from a task goes to the worker's
// own shard first, and wait/drain/shutdown refuse to block a worker. It is
// the only thing found this way; what a worker hands the jobs it runs (its
// WorkerBatch) is passed explicitly (Job::run).
#pragma once

#include <cstddef>

namespace brisk::detail {

struct WorkerIdentity {
  const void* engine;  // the engine whose worker this is (WorkerPorts::engine)
  std::size_t shard;   // its own shard
};

// The calling thread's identity, or nullptr when it is no worker.
const WorkerIdentity* this_thread_worker() noexcept;

// The same, but only when the thread is a worker of `engine` (a task of
// another engine may call into this one).
inline const WorkerIdentity* this_thread_worker_of(const void* engine) noexcept {
  const WorkerIdentity* w = this_thread_worker();
  return w != nullptr && w->engine == engine ? w : nullptr;
}

}  // namespace brisk::detail
