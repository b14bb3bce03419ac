// The box pool's geometry: which sizes it serves and how its memory is cut.
//
// Blocks of one size class are carved from chunks of kChunkBytes aligned to
// kChunkBytes, so that a block finds its chunk (and through it its owner and
// class) by masking its address: no per-block header, and a 64-byte capture
// takes one 64-byte block. TBB's small_object_allocator and its scalable
// allocator's slabs find their owner the same way.
#pragma once

#include <cstddef>
#include <cstdint>

#include "platform/cache_line.hpp"

namespace brisk::detail::alloc {

class ThreadSlab;

inline constexpr std::size_t kChunkBytes = 16 * 1024;
inline constexpr std::size_t kClassBytes[] = {64, 128, 256};
inline constexpr int kClasses = 3;
// A thread's slab carves at most this many chunks per class (1 MiB; 16320
// blocks of 64 bytes, more than the default rings hold on a small machine):
// past it, boxes come from operator new. In-flight boxes are bounded by the
// rings anyway; this bounds what one producer can keep for itself.
inline constexpr unsigned kMaxChunksPerClass = 64;

// The first line of every chunk; its blocks follow.
struct alignas(kCacheLine) ChunkHeader {
  ThreadSlab* owner;         // written before any block of the chunk is handed out; never changes
  ChunkHeader* next_chunk;   // the owner's other chunks of this class
  int size_class;
};
static_assert(sizeof(ChunkHeader) == kCacheLine, "blocks start one line into a chunk, so each is line-aligned");
static_assert(kChunkBytes % kCacheLine == 0 && (kChunkBytes & (kChunkBytes - 1)) == 0,
              "chunks are found by masking: a power of two");

// The class serving `bytes`, or -1 when it is larger than every class.
constexpr int class_of(std::size_t bytes) noexcept {
  for (int c = 0; c < kClasses; ++c) {
    if (bytes <= kClassBytes[c]) return c;
  }
  return -1;
}

inline ChunkHeader* chunk_of(void* block) noexcept {
  return reinterpret_cast<ChunkHeader*>(reinterpret_cast<std::uintptr_t>(block) & ~(kChunkBytes - 1));
}

}  // namespace brisk::detail::alloc
