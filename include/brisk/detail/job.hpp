// brisk::detail::Job: the unit a ring slot holds.
//
// A type-erased, move-only callable with inline storage, so that post() of a
// small lambda never touches the heap. Callables larger than kInlineSize (or
// with stricter alignment, or a throwing move) are boxed: up to kBoxMaxBytes
// in the producer's box pool (detail/box_pool.hpp), larger ones (or when the
// pool is at its bound) with operator new. That is the only allocation on
// the post() path and it is documented in the README.
//
// Layout is fixed at 56 bytes so that a ring slot (8-byte sequence + Job) is
// exactly one 64-byte cache line: neighbouring slots never share a line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "brisk/detail/box_pool.hpp"

namespace brisk::detail {

// Engine-private: what a worker hands the jobs it runs (engine/worker).
class WorkerBatch;

class Job {
 public:
  static constexpr std::size_t kInlineSize = 32;

  // Per-callable-type operations. relocate == nullptr means "memcpy is a
  // valid move" (trivially copyable callables), the common, fastest case.
  struct Ops {
    void (*invoke)(void* storage, WorkerBatch* batch);
    void (*relocate)(void* dst, void* src) noexcept;  // move-construct dst, destroy src
    void (*destroy)(void* storage) noexcept;          // nullptr: trivially destructible
  };

  Job() noexcept = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Job> && std::is_invocable_v<D&>>>
  explicit Job(F&& f) {
    if constexpr (fits_inline<D>()) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else if (void* block = fits_box_pool<D>() ? box_allocate(sizeof(D)) : nullptr) {
      struct FreeIfThrows {
        void* block;
        ~FreeIfThrows() { if (block != nullptr) box_free(block); }
      } guard{block};
      D* boxed = ::new (block) D(std::forward<F>(f));
      guard.block = nullptr;
      std::memcpy(storage_, &boxed, sizeof boxed);
      ops_ = &pooled_ops<D>;
    } else {
      D* boxed = new D(std::forward<F>(f));
      std::memcpy(storage_, &boxed, sizeof boxed);
      ops_ = &boxed_ops<D>;
    }
  }

  // Engine-private: a small, trivially copyable callable that takes the
  // running worker's batch (null when no worker runs it): a named task's run.
  struct TakesBatch {};
  template <class F, class = std::enable_if_t<std::is_invocable_v<const F&, WorkerBatch*>>>
  Job(TakesBatch, const F& f) noexcept {
    static_assert(fits_inline<F>() && std::is_trivially_copyable_v<F>, "an engine job is inline and memcpy-movable");
    ::new (static_cast<void*>(storage_)) F(f);
    ops_ = &batch_ops<F>;
  }

  Job(Job&& other) noexcept { take(other); }
  Job& operator=(Job&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // Runs the callable once and destroys it, leaving the Job empty, even if
  // the callable throws (the exception propagates to the caller). batch:
  // the running worker's, or null on any other thread.
  void run(WorkerBatch* batch = nullptr) {
    struct Cleanup {
      Job* job;
      ~Cleanup() { job->reset(); }
    } cleanup{this};
    ops_->invoke(storage_, batch);
  }

  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

 private:
  // The engine's access to the two fields below (engine/shard/job_fields.hpp).
  friend struct JobFields;

  // When it was submitted, in the engine's stamp ticks (TSC ticks or clock
  // nanoseconds), for queue-wait latency and traces.
  std::uint64_t submit_stamp_ = 0;
  // The engine's bits (for example "holds a credit").
  std::uint32_t flags_ = 0;
  template <class D>
  static constexpr bool fits_inline() {
    return sizeof(D) <= kInlineSize && alignof(D) <= alignof(std::max_align_t) &&
           alignof(D) <= 8 && std::is_nothrow_move_constructible_v<D>;
  }

  template <class D>
  static constexpr bool fits_box_pool() {
    return sizeof(D) <= kBoxMaxBytes && alignof(D) <= kBoxMaxAlign;
  }

  void take(Job& other) noexcept {
    ops_ = other.ops_;
    submit_stamp_ = other.submit_stamp_;
    flags_ = other.flags_;
    if (ops_ != nullptr) {
      if (ops_->relocate == nullptr) {
        std::memcpy(storage_, other.storage_, kInlineSize);
      } else {
        ops_->relocate(storage_, other.storage_);
      }
    }
    other.ops_ = nullptr;
  }

  template <class D>
  static void invoke_inline(void* s, WorkerBatch*) { (*std::launder(static_cast<D*>(s)))(); }
  template <class D>
  static void invoke_with_batch(void* s, WorkerBatch* batch) { (*std::launder(static_cast<const D*>(s)))(batch); }
  template <class D>
  static void relocate_inline(void* dst, void* src) noexcept {
    D* from = std::launder(static_cast<D*>(src));
    ::new (dst) D(std::move(*from));
    from->~D();
  }
  template <class D>
  static void destroy_inline(void* s) noexcept { std::launder(static_cast<D*>(s))->~D(); }

  template <class D>
  static D* unbox(void* s) noexcept {
    D* p;
    std::memcpy(&p, s, sizeof p);
    return p;
  }
  template <class D>
  static void invoke_boxed(void* s, WorkerBatch*) { (*unbox<D>(s))(); }
  template <class D>
  static void destroy_boxed(void* s) noexcept { delete unbox<D>(s); }
  template <class D>
  static void destroy_pooled(void* s) noexcept {
    D* p = unbox<D>(s);
    p->~D();
    box_free(p);
  }

  template <class D>
  static constexpr Ops inline_ops{
      &invoke_inline<D>,
      std::is_trivially_copyable_v<D> ? nullptr : &relocate_inline<D>,
      std::is_trivially_destructible_v<D> ? nullptr : &destroy_inline<D>};
  // A boxed callable is just a pointer: memcpy relocates it.
  template <class D>
  static constexpr Ops boxed_ops{&invoke_boxed<D>, nullptr, &destroy_boxed<D>};
  template <class D>
  static constexpr Ops pooled_ops{&invoke_boxed<D>, nullptr, &destroy_pooled<D>};
  template <class D>
  static constexpr Ops batch_ops{&invoke_with_batch<D>, nullptr, nullptr};

  const Ops* ops_ = nullptr;
  alignas(8) unsigned char storage_[kInlineSize];
};

static_assert(sizeof(Job) == 56, "a ring slot must be one cache line: 8-byte sequence + 56-byte Job");

}  // namespace brisk::detail
