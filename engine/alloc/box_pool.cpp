// The box pool's threads: which slab a thread allocates from, and how a
// thread that frees other threads' blocks gives them back in batches.
//
// A worker frees the boxes of whatever producers posted to it. It collects
// consecutive frees for one owner and class into a chain and pushes the
// chain with one compare-exchange when it reaches kReturnBatch blocks or the
// owner changes (a producer's posts usually arrive in a run). At most
// kReturnBatch - 1 blocks wait in a worker's chain; the owner does not need
// them (it carves or falls back to operator new), and the worker's exit
// returns them.
#include <mutex>

#include "alloc/thread_slab.hpp"
#include "brisk/detail/box_pool.hpp"

namespace brisk::detail {

namespace {

using alloc::FreeBlock;
using alloc::ThreadSlab;

constexpr unsigned kReturnBatch = 32;

static_assert(alloc::kClassBytes[alloc::kClasses - 1] == kBoxMaxBytes, "the largest class is the largest box");
static_assert(kBoxMaxAlign == kCacheLine, "blocks are line-aligned (size_classes.hpp)");

// Every slab ever made, so that an exited thread's slab is adopted instead
// of leaked. Taken once per thread (its first box) and at its exit: never on
// the allocate or free path.
struct Registry {
  std::mutex mutex;
  ThreadSlab* slabs = nullptr;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: threads may exit after main()
  return *r;
}

// Trivially destructible, so that it stays usable during and after the
// thread's exit (a later thread_local destructor may free a box).
struct ThreadBoxes {
  ThreadSlab* slab;  // allocated from; nullptr until this thread's first box
  // The chain of other threads' blocks freed here and not yet returned.
  ThreadSlab* chain_owner;
  int chain_class;
  unsigned chain_length;
  FreeBlock* chain_first;
  FreeBlock* chain_last;
  bool exit_hooked;
  bool exited;  // its exit ran: allocate and free no longer batch
};
constinit thread_local ThreadBoxes tls{};

void return_chain(ThreadBoxes& t) noexcept {
  if (t.chain_length == 0) return;
  t.chain_owner->return_chain(t.chain_class, t.chain_first, t.chain_last);
  t.chain_length = 0;
}

// At the thread's exit: give the chain back, abandon the slab for adoption.
struct ThreadExit {
  ~ThreadExit() {
    ThreadBoxes& t = tls;
    return_chain(t);
    if (t.slab != nullptr) {
      std::lock_guard lock(registry().mutex);
      t.slab->abandoned = true;
    }
    t.slab = nullptr;
    t.exited = true;
  }
};

void hook_exit(ThreadBoxes& t) {
  if (t.exit_hooked) return;
  static thread_local ThreadExit on_exit;
  (void)on_exit;  // odr-use: constructs it, which registers its destructor
  t.exit_hooked = true;
}

// An abandoned slab if there is one (its owner-only state was left under
// the same mutex, so this thread sees it), else a new one.
ThreadSlab* adopt_or_make() noexcept {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (ThreadSlab* s = r.slabs; s != nullptr; s = s->next_in_registry) {
    if (s->abandoned) {
      s->abandoned = false;
      return s;
    }
  }
  auto* slab = new (std::nothrow) ThreadSlab;
  if (slab == nullptr) return nullptr;
  slab->next_in_registry = r.slabs;
  r.slabs = slab;
  return slab;
}

}  // namespace

void* box_allocate(std::size_t bytes) noexcept {
  const int size_class = alloc::class_of(bytes);
  ThreadBoxes& t = tls;
  if (size_class < 0 || t.exited) return nullptr;
  if (t.slab == nullptr) {
    hook_exit(t);
    t.slab = adopt_or_make();
    if (t.slab == nullptr) return nullptr;
  }
  return t.slab->allocate(size_class);
}

void box_free(void* block) noexcept {
  const alloc::ChunkHeader* chunk = alloc::chunk_of(block);
  auto* b = static_cast<FreeBlock*>(block);
  ThreadBoxes& t = tls;
  if (chunk->owner == t.slab) {
    t.slab->free_local(chunk->size_class, b);
    return;
  }
  if (t.exited) {
    chunk->owner->return_chain(chunk->size_class, b, b);
    return;
  }
  if (t.chain_length != 0 && (t.chain_owner != chunk->owner || t.chain_class != chunk->size_class)) {
    return_chain(t);
  }
  if (t.chain_length == 0) {
    hook_exit(t);
    t.chain_owner = chunk->owner;
    t.chain_class = chunk->size_class;
    t.chain_first = nullptr;
    t.chain_last = b;
  }
  b->next = t.chain_first;
  t.chain_first = b;
  if (++t.chain_length == kReturnBatch) return_chain(t);
}

}  // namespace brisk::detail
