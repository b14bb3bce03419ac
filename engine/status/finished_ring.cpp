#include "status/finished_ring.hpp"

#include "platform/cpu_relax.hpp"

#include <algorithm>
#include <limits>
#include <thread>

namespace brisk::detail {

struct FinishedRing::Slot {
  // 0: never written; 2 * seq: holds the task with sequence number seq;
  // odd: being written. The fields are read between two loads of it.
  std::atomic<std::uint64_t> version{0};
  std::atomic<TaskId> id{0};
  std::atomic<std::uint64_t> accepted_stamp{0};
  std::atomic<std::int64_t> started_ns{0};
  std::atomic<std::int64_t> finished_ns{0};
  std::atomic<std::uint32_t> attempts{0};
  std::atomic<std::uint8_t> state{0};
  std::atomic<bool> has_texts{false};
};

struct alignas(kCacheLine) FinishedRing::Cursor {
  // Odd while its writer writes an entry (claim included), even between
  // two: a seqlock over next and end for the readers (see write() and
  // between_writes() for the orderings).
  std::atomic<std::uint64_t> writes{0};
  // The chunk [next, end) of sequence numbers it owns. Atomics only so that
  // readers may read them while the writer changes them (relaxed: the
  // seqlock orders them); the writer's own loads and stores are plain movs.
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> end{0};
  // Written only by the owner, summed by added() / size() (relaxed: counts).
  std::atomic<std::uint64_t> added{0};
  std::atomic<std::int64_t> newest_ns{std::numeric_limits<std::int64_t>::min()};
  // The size of the writer's next chunk (only the writer reads it: no atomic).
  std::uint64_t size = 0;
};

FinishedRing::FinishedRing(std::size_t capacity, std::uint64_t first_seq)
    : capacity_(capacity),
      chunk_(capacity >= 64 * kChunk ? kChunk : 1),
      slots_(std::make_unique<Slot[]>(capacity)),
      cursors_(std::make_unique<Cursor[]>(kCursors)),
      index_(capacity),
      indexed_(first_seq),
      next_seq_(first_seq) {
  BRISK_ASSERT_LINES_APART(FinishedRing, cursors_, next_seq_);
  BRISK_ASSERT_LAST_LINE_ALONE(FinishedRing, next_seq_);
  static_assert(sizeof(Cursor) % kCacheLine == 0, "cursors: lines of their own");
}

FinishedRing::~FinishedRing() = default;

std::uint64_t FinishedRing::claim(Cursor& c) noexcept {
  if (chunk_ == 1) return next_seq_.fetch_add(1, std::memory_order_relaxed);
  // A chunk left half-used while its writer idled has fallen behind: its
  // entries would be evicted before as many newer ones as the ring holds
  // came. Past kLagDivisor of the ring, start a new one (its rest is never
  // written: those slots keep older entries a little longer, and the
  // entries written meanwhile outlive fewer newer ones).
  std::uint64_t next = c.next.load(std::memory_order_relaxed);
  const std::uint64_t end = c.end.load(std::memory_order_relaxed);
  if (next == end || next_seq_.load(std::memory_order_relaxed) - next > capacity_ / kLagDivisor) {
    // So that dropped numbers stay few, a writer's chunks grow only as it
    // fills them: 1 after a drop, doubling up to chunk_. A writer that
    // writes now and then (a thread that cancels) drops one number in
    // three at most; one that fills its chunks drops none.
    c.size = next != end ? 1 : std::max<std::uint64_t>(1, std::min(2 * c.size, chunk_));
    // Smaller chunks when many threads write: their chunks together stay
    // within the lag bound, or writers would drop chunks at every entry.
    // (relaxed: it only sizes the chunk.)
    const std::uint64_t writers = cursors_in_use_.load(std::memory_order_relaxed) + 1;
    const std::uint64_t chunk = std::clamp<std::uint64_t>(capacity_ / (kLagDivisor * writers), 1, c.size);
    next = next_seq_.fetch_add(chunk, std::memory_order_relaxed);
    c.end.store(next + chunk, std::memory_order_relaxed);
  }
  c.next.store(next + 1, std::memory_order_relaxed);
  return next;
}

TaskId FinishedRing::add(const FinishedFields& task) noexcept {
  const std::size_t thread_slot = this_thread_slot();
  if (thread_slot == kNoThreadSlot) {
    std::lock_guard lock(shared_cursor_mutex_);
    return write(cursors_[kSharedCursor], task);
  }
  if (thread_slot >= cursors_in_use_.load(std::memory_order_relaxed)) {
    // Once per thread slot: lookups read this cursor from now on. Ordered
    // before the claim below by the release fence in write(), like the odd
    // count (a lookup that sees the claim sees this).
    std::size_t in_use = cursors_in_use_.load(std::memory_order_relaxed);
    while (in_use <= thread_slot &&
           !cursors_in_use_.compare_exchange_weak(in_use, thread_slot + 1, std::memory_order_relaxed)) {
    }
  }
  return write(cursors_[thread_slot], task);
}

TaskId FinishedRing::write(Cursor& c, const FinishedFields& task) noexcept {
  // Odd while this entry is written. The release fence orders the odd count
  // (and a raised cursors_in_use_) before the claim: a lookup whose acquire
  // load of next_seq_ sees this claim then reads the cursor odd, or even
  // with the chunk as this write leaves it.
  const std::uint64_t writes = c.writes.load(std::memory_order_relaxed);
  c.writes.store(writes + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  const std::uint64_t seq = claim(c);
  Slot& slot = slots_[seq % capacity_];
  TaskId unreferenced = 0;
  std::uint64_t v = slot.version.load(std::memory_order_relaxed);
  for (;;) {
    if ((v & 1) != 0) {
      // Written by a writer a whole ring behind (it was stalled): it ends soon.
      std::this_thread::yield();
      v = slot.version.load(std::memory_order_relaxed);
      continue;
    }
    if (v >= 2 * seq) {
      // A newer entry holds the slot already: this one is evicted at once.
      if (task.has_texts) unreferenced = task.id;
      c.added.store(c.added.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      c.writes.store(writes + 2, std::memory_order_release);
      return unreferenced;
    }
    // acquire: the old entry's fields (read below) as its writer left them.
    if (slot.version.compare_exchange_weak(v, 2 * seq + 1, std::memory_order_acquire, std::memory_order_relaxed)) break;
  }
  if (v != 0 && slot.has_texts.load(std::memory_order_relaxed)) unreferenced = slot.id.load(std::memory_order_relaxed);
  // release fence: a reader that reads any field stored below also sees
  // the odd version above, so its second version load tells it to retry.
  std::atomic_thread_fence(std::memory_order_release);
  slot.id.store(task.id, std::memory_order_relaxed);
  slot.accepted_stamp.store(task.accepted_stamp, std::memory_order_relaxed);
  slot.started_ns.store(task.started_ns, std::memory_order_relaxed);
  slot.finished_ns.store(task.finished_ns, std::memory_order_relaxed);
  slot.attempts.store(task.attempts, std::memory_order_relaxed);
  slot.state.store(static_cast<std::uint8_t>(task.state), std::memory_order_relaxed);
  slot.has_texts.store(task.has_texts, std::memory_order_relaxed);
  // release: a reader that loads this version (acquire) sees the fields.
  slot.version.store(2 * seq, std::memory_order_release);
  c.added.store(c.added.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (task.finished_ns > c.newest_ns.load(std::memory_order_relaxed)) {
    c.newest_ns.store(task.finished_ns, std::memory_order_relaxed);
  }
  // release: a lookup that reads this even count sees the chunk and the
  // slot's version as this write left them.
  c.writes.store(writes + 2, std::memory_order_release);
  return unreferenced;
}

bool FinishedRing::read(const Slot& slot, FinishedFields* out) const noexcept {
  // Seqlock reader. acquire: the fields below are at least as new as this version.
  const std::uint64_t v = slot.version.load(std::memory_order_acquire);
  if (v == 0 || (v & 1) != 0) return false;
  FinishedFields f;
  f.id = slot.id.load(std::memory_order_relaxed);
  f.accepted_stamp = slot.accepted_stamp.load(std::memory_order_relaxed);
  f.started_ns = slot.started_ns.load(std::memory_order_relaxed);
  f.finished_ns = slot.finished_ns.load(std::memory_order_relaxed);
  f.attempts = slot.attempts.load(std::memory_order_relaxed);
  f.state = static_cast<TaskState>(slot.state.load(std::memory_order_relaxed));
  f.has_texts = slot.has_texts.load(std::memory_order_relaxed);
  // acquire fence: if any field above came from a later write, its
  // writer's odd version is visible to the load below.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (slot.version.load(std::memory_order_relaxed) != v) return false;
  *out = f;
  return true;
}

bool FinishedRing::index_if_written(std::uint64_t seq) const {
  // Written with this number (not overwritten meanwhile by a writer a ring
  // ahead: a seqlock read, as in read()).
  const Slot& slot = slots_[seq % capacity_];
  if (slot.version.load(std::memory_order_acquire) != 2 * seq) return false;
  const TaskId id = slot.id.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (slot.version.load(std::memory_order_relaxed) != 2 * seq) return false;
  // An index cell holds the number's low 32 bits, 0 meaning empty: once in
  // 2^32 entries one cannot be indexed, and is not found (`unknown`), as
  // when its bucket pushes it out.
  if (static_cast<std::uint32_t>(seq) != 0) index_.insert(id, seq);
  return true;
}

bool FinishedRing::passed(std::uint64_t seq) const noexcept {
  // The slot holds, or is being written with, a later number: `seq` was
  // overwritten before it could be indexed, or its writer found the newer
  // entry there and did not write it (see write()). relaxed: nothing is
  // read through it, the version only grows, and a stale value only makes
  // the caller look again at its next lookup.
  return slots_[seq % capacity_].version.load(std::memory_order_relaxed) >= 2 * seq + 2;
}

FinishedRing::Unfilled FinishedRing::between_writes(const Cursor& c) const noexcept {
  // A seqlock read. A writer is odd only while it writes one entry, and a
  // worker runs a task between two: spin for that gap (a yield would lose
  // the CPU to the writer for a whole time slice), and yield only if the
  // writer seems to have lost its own CPU.
  for (int tries = 1;; ++tries) {
    // acquire: pairs with the writer's release of this even count.
    const std::uint64_t writes = c.writes.load(std::memory_order_acquire);
    if ((writes & 1) == 0) {
      const Unfilled chunk{c.next.load(std::memory_order_relaxed), c.end.load(std::memory_order_relaxed)};
      // acquire fence: if either load above saw a later write's store, the
      // load below sees that write's odd count (its release fence).
      std::atomic_thread_fence(std::memory_order_acquire);
      if (c.writes.load(std::memory_order_relaxed) == writes) return chunk;
    }
    if (tries % 1024 == 0) {
      std::this_thread::yield();
    } else {
      cpu_relax();
    }
  }
}

void FinishedRing::index_filled(std::vector<Unfilled>& unfilled) const {
  // A chunk fills in order (one holder at a time), so its first unwritten
  // number ends what there is to index in it for now, unless the slot has
  // passed that number (it will never be written: go on).
  for (auto& [first, last] : unfilled) {
    while (first < last && (index_if_written(first) || passed(first))) ++first;
  }
}

void FinishedRing::catch_up() const {
  // Read first: a chunk claimed after this load lies at or above `next`;
  // one claimed before lies below it, in a cursor taken below.
  const std::uint64_t next = next_seq_.load(std::memory_order_acquire);
  if (next == indexed_) {
    // No chunk claimed since the last call: what is new lies in the chunks
    // it found unfilled.
    index_filled(unfilled_);
    return;
  }
  // The numbers below `next` still to be written: each cursor's unfilled
  // chunk, read between two of its writes (a chunk claimed before `next`
  // was read is there: see write()).
  std::vector<Unfilled> unfilled;
  const std::size_t in_use = cursors_in_use();
  for (std::size_t i = 0; i < kCursors; ++i) {
    if (i >= in_use && i != kSharedCursor) continue;  // never written through
    const auto [first, last] = between_writes(cursors_[i]);
    if (first < last && last <= next) unfilled.emplace_back(first, last);
  }
  // The last call's unfilled chunks, as far as written before the walk
  // (later numbers are in the new list; a chunk a writer dropped as stale
  // stays unwritten and is forgotten).
  index_filled(unfilled_);
  unfilled_ = std::move(unfilled);
  // Then everything new; older entries are overwritten already. Each goes
  // to a random bucket line: ask for the lines of a block of entries ahead
  // of inserting them, so that their misses overlap.
  constexpr std::uint64_t kBlock = 16;
  for (std::uint64_t seq = std::max(indexed_, next > capacity_ ? next - capacity_ : 1); seq < next; seq += kBlock) {
    const std::uint64_t end = std::min(next, seq + kBlock);
    for (std::uint64_t s = seq; s < end; ++s) index_.prefetch(slots_[s % capacity_].id.load(std::memory_order_relaxed));
    for (std::uint64_t s = seq; s < end; ++s) index_if_written(s);
  }
  indexed_ = next;
}

bool FinishedRing::find(TaskId id, FinishedFields* out) const {
  std::uint64_t seqs[FinishedIndex::kCells];
  std::size_t n = 0;
  std::uint64_t next = 0;
  {
    std::lock_guard lock(index_mutex_);
    catch_up();
    next = indexed_;
    n = index_.candidates(id, next, seqs);
  }
  for (std::size_t i = 0; i < n; ++i) {
    FinishedFields f;
    if (read(slots_[seqs[i] % capacity_], &f) && f.id == id) {
      *out = f;
      return true;
    }
  }
  return false;
}

std::size_t FinishedRing::size(std::int64_t retention_ns) const noexcept {
  std::int64_t newest = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < kCursors; ++i) newest = std::max(newest, cursors_[i].newest_ns.load(std::memory_order_relaxed));
  std::size_t n = 0;
  for (std::size_t i = 0; i < capacity_; ++i) {
    FinishedFields f;
    if (read(slots_[i], &f) && newest - f.finished_ns <= retention_ns) ++n;
  }
  return n;
}

std::uint64_t FinishedRing::added() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < kCursors; ++i) n += cursors_[i].added.load(std::memory_order_relaxed);
  return n;
}

}  // namespace brisk::detail
