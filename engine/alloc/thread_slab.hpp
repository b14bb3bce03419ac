// ThreadSlab: one thread's blocks for boxed closures, in the shape of TBB's
// small_object_allocator. Its owner allocates and frees from per-class free
// lists no other thread touches; a block freed on another thread (a worker
// that ran the closure) comes back through a per-class list that others
// push whole chains onto and the owner takes whole, with one exchange.
// Nobody pops single blocks from a shared list, so there is no ABA.
//
// A slab outlives its thread: when the thread exits the slab is abandoned
// and the next thread that needs one adopts it (box_pool.cpp), so a block
// still in flight always has an owner to go back to.
#pragma once

#include <atomic>

#include "alloc/size_classes.hpp"

namespace brisk::detail::alloc {

struct FreeBlock {
  FreeBlock* next;
};

class ThreadSlab {
 public:
  ThreadSlab() = default;
  ThreadSlab(const ThreadSlab&) = delete;
  ThreadSlab& operator=(const ThreadSlab&) = delete;

  // Owner only. A block of class `size_class`, or nullptr when the class
  // has carved kMaxChunksPerClass chunks and none of its blocks is free.
  void* allocate(int size_class) noexcept;
  // Owner only: a block of this slab back on its local list.
  void free_local(int size_class, FreeBlock* block) noexcept;
  // Any thread: blocks of this slab, linked first -> ... -> last, back to
  // their owner in one push.
  void return_chain(int size_class, FreeBlock* first, FreeBlock* last) noexcept;

  // The registry's links (box_pool.cpp), guarded by its mutex.
  ThreadSlab* next_in_registry = nullptr;
  bool abandoned = false;

 private:
  void* carve(int size_class) noexcept;

  // The owner's state of one class: its free list and the chunk it carves.
  struct alignas(kCacheLine) OwnerList {
    FreeBlock* free = nullptr;
    char* carve_next = nullptr;
    char* carve_end = nullptr;
    ChunkHeader* chunks = nullptr;  // every chunk of the class, so they stay reachable
    unsigned chunk_count = 0;
  };
  // What other threads push onto: its own line, so that their pushes do not
  // take the owner's line away from it.
  struct alignas(kCacheLine) ReturnedList {
    std::atomic<FreeBlock*> head{nullptr};
  };
  static_assert(sizeof(OwnerList) == kCacheLine && sizeof(ReturnedList) == kCacheLine,
                "owner lists and returned lists each fill one line");

  OwnerList owned_[kClasses];
  ReturnedList returned_[kClasses];
};

}  // namespace brisk::detail::alloc
