#include "alloc/thread_slab.hpp"

#include <sanitizer/asan_interface.h>

#include <new>

namespace brisk::detail::alloc {

namespace {

// Under ASan a free block is poisoned past its link, so a closure used after
// it was destroyed is reported as it would be with operator new.
void poison_free(FreeBlock* block, int size_class) noexcept {
  ASAN_POISON_MEMORY_REGION(reinterpret_cast<char*>(block) + sizeof(FreeBlock),
                            kClassBytes[size_class] - sizeof(FreeBlock));
}

}  // namespace

void* ThreadSlab::allocate(int size_class) noexcept {
  OwnerList& own = owned_[size_class];
  if (own.free == nullptr) {
    std::atomic<FreeBlock*>& returned = returned_[size_class].head;
    // relaxed: only a hint to skip the exchange (and the line's transfer)
    // while nothing came back; the exchange below is what synchronizes.
    if (returned.load(std::memory_order_relaxed) != nullptr) {
      // acquire: pairs with the release of every return_chain() push before
      // it (each push's compare-exchange continues the release sequence of
      // the ones before it), so the returning threads' last use of the
      // blocks and the links they wrote happen before we follow and reuse.
      own.free = returned.exchange(nullptr, std::memory_order_acquire);
    }
  }
  FreeBlock* block = own.free;
  if (block == nullptr) return carve(size_class);
  ASAN_UNPOISON_MEMORY_REGION(block, kClassBytes[size_class]);
  own.free = block->next;
  return block;
}

void* ThreadSlab::carve(int size_class) noexcept {
  OwnerList& own = owned_[size_class];
  const std::size_t bytes = kClassBytes[size_class];
  if (own.carve_next == own.carve_end) {
    if (own.chunk_count == kMaxChunksPerClass) return nullptr;
    void* memory = ::operator new(kChunkBytes, std::align_val_t{kChunkBytes}, std::nothrow);
    if (memory == nullptr) return nullptr;
    auto* chunk = ::new (memory) ChunkHeader{this, own.chunks, size_class};
    own.chunks = chunk;
    ++own.chunk_count;
    own.carve_next = reinterpret_cast<char*>(chunk) + sizeof(ChunkHeader);
    own.carve_end = own.carve_next + (kChunkBytes - sizeof(ChunkHeader)) / bytes * bytes;
  }
  void* block = own.carve_next;
  own.carve_next += bytes;
  return block;
}

void ThreadSlab::free_local(int size_class, FreeBlock* block) noexcept {
  OwnerList& own = owned_[size_class];
  block->next = own.free;
  own.free = block;
  poison_free(block, size_class);
}

void ThreadSlab::return_chain(int size_class, FreeBlock* first, FreeBlock* last) noexcept {
  for (FreeBlock* b = first;; b = b->next) {
    poison_free(b, size_class);
    if (b == last) break;
  }
  std::atomic<FreeBlock*>& head = returned_[size_class].head;
  // relaxed (load and failure): the old head is only stored as a link,
  // never followed here.
  FreeBlock* old = head.load(std::memory_order_relaxed);
  do {
    last->next = old;
    // release: publishes the chain's links and everything this thread did
    // with its blocks to the owner's acquire exchange in allocate().
  } while (!head.compare_exchange_weak(old, first, std::memory_order_release, std::memory_order_relaxed));
}

}  // namespace brisk::detail::alloc
