#include "status/finished_ring.hpp"

#include "platform/cpu_relax.hpp"

#include <algorithm>
#include <limits>
#include <thread>

namespace brisk::detail {

namespace {

// Numbers the threads that write, so that two workers start at different
// cursors (relaxed: any distinct-enough numbers do).
std::atomic<unsigned> thread_numbers{0};
unsigned thread_number() noexcept {
  thread_local const unsigned number = thread_numbers.fetch_add(1, std::memory_order_relaxed);
  return number;
}

}  // namespace

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
  // A thread writing through this cursor, or a reader ending its chunk
  // (acquire/release: the next holder sees the chunk and the slots as the
  // last one left them).
  std::atomic<bool> busy{false};
  std::uint64_t next = 0;  // the chunk [next, end) of sequence numbers it owns
  std::uint64_t end = 0;
  // Written only by the holder, summed by added() / size() (relaxed: counts).
  std::atomic<std::uint64_t> added{0};
  std::atomic<std::int64_t> newest_ns{std::numeric_limits<std::int64_t>::min()};
};

FinishedRing::FinishedRing(std::size_t capacity)
    : capacity_(capacity),
      chunk_(capacity >= 64 * kChunk ? kChunk : 1),
      slots_(std::make_unique<Slot[]>(capacity)),
      cursors_(std::make_unique<Cursor[]>(kCursors)),
      index_(capacity) {
  BRISK_ASSERT_LINES_APART(FinishedRing, cursors_, next_seq_);
  BRISK_ASSERT_LAST_LINE_ALONE(FinishedRing, next_seq_);
  static_assert(sizeof(Cursor) % kCacheLine == 0, "cursors: lines of their own");
}

FinishedRing::~FinishedRing() = default;

FinishedRing::Cursor& FinishedRing::cursor() noexcept {
  // Each thread starts at its own cursor: a worker finds it free unless a
  // 17th writing thread shares it; then it tries the others.
  for (unsigned i = thread_number();; ++i) {
    Cursor& c = cursors_[i % kCursors];
    if (!c.busy.load(std::memory_order_relaxed) && !c.busy.exchange(true, std::memory_order_acquire)) return c;
    if (i % kCursors == kCursors - 1) std::this_thread::yield();
  }
}

std::uint64_t FinishedRing::claim(Cursor& c) noexcept {
  if (chunk_ == 1) return next_seq_.fetch_add(1, std::memory_order_relaxed);
  // A chunk left half-used while its writer idled has fallen behind: its
  // entries would be evicted before as many newer ones as the ring holds
  // came. Past kLagDivisor of the ring, start a new one (its rest is never
  // written: those slots keep older entries a little longer).
  if (c.next == c.end || next_seq_.load(std::memory_order_relaxed) - c.next > capacity_ / kLagDivisor) {
    c.next = next_seq_.fetch_add(chunk_, std::memory_order_relaxed);
    c.end = c.next + chunk_;
  }
  return c.next++;
}

TaskId FinishedRing::add(const FinishedFields& task) noexcept {
  Cursor& c = cursor();
  std::uint64_t seq = claim(c);
  while (static_cast<std::uint32_t>(seq) == 0) seq = claim(c);  // 0 marks an empty index cell
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
      c.busy.store(false, std::memory_order_release);
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
  c.busy.store(false, std::memory_order_release);
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
  index_.insert(id, seq);
  return true;
}

void FinishedRing::take_between_writes(Cursor& c) const noexcept {
  // A writer holds its cursor only while it writes one entry, and a worker
  // runs a task between two: spin for that gap (a yield would lose the CPU
  // to the writer for a whole time slice), and yield only if the holder
  // seems to have lost its own CPU.
  for (;;) {
    for (int i = 0; i < 1024; ++i) {
      if (!c.busy.load(std::memory_order_relaxed) && !c.busy.exchange(true, std::memory_order_acquire)) return;
      cpu_relax();
    }
    std::this_thread::yield();
  }
}

void FinishedRing::index_filled(std::vector<Unfilled>& unfilled) const {
  // A chunk fills in order (one holder at a time), so its first unwritten
  // number ends what there is to index in it for now.
  for (auto& [first, last] : unfilled) {
    while (first < last && index_if_written(first)) ++first;
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
  // chunk, read while holding the cursor (acquire: what every holder
  // before wrote is visible).
  std::vector<Unfilled> unfilled;
  for (std::size_t i = 0; i < kCursors; ++i) {
    Cursor& c = cursors_[i];
    take_between_writes(c);
    if (c.next < c.end && c.end <= next) unfilled.emplace_back(c.next, c.end);
    c.busy.store(false, std::memory_order_release);
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
