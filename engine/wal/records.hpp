// The typed records of brisk's task lifecycle and their payload encodings.
//
// Every payload begins with a version byte (2 today); a reader refuses
// versions it does not know rather than guess. Integers are varints where
// they are usually small (ids, counts, lengths, attempts, an unset due time)
// and little-endian fixed width where they never are (timestamps); strings
// are a varint length then bytes (coding.hpp). Times are
// whatever clock the engine stamps them with: to keep meaning across a
// restart they must come from a clock that survives one (wall time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "brisk/dead_letter.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "brisk/workflow.hpp"
#include "wal/log_format.hpp"

namespace brisk::detail::wal {

inline constexpr std::uint8_t kPayloadVersion = 2;
// A task_submitted payload with a workflow section (Workflow below) says 3,
// so that a reader that knows only 2 refuses it instead of dropping the
// section: it would run the task as if it were in no batch and no chain.
inline constexpr std::uint8_t kWorkflowPayloadVersion = 3;

// Log streams. Threads append to one of kLogStreams pending buffers so that
// two of them share no lock and no cache line per record; the writer
// interleaves the streams into the one log. Order is kept within a stream
// only, so everything that must stay in order goes to one stream: every
// record about a task goes to the stream of its id, stream_of(id), and the
// ids the log hands out encode their stream (see Wal::append_numbered).
// Completions are the exception: they go to the completing thread's stream,
// and the writer keeps them after their tasks' records another way (see
// Wal::append(TaskCompletedRef)). Part of the format: recovery relies on it
// to purge the dead-letter queue one stream at a time (DlqPurged).
inline constexpr std::uint32_t kLogStreams = 8;
constexpr std::uint32_t stream_of(TaskId id) noexcept { return static_cast<std::uint32_t>(id % kLogStreams); }

// A task's part in a batch or chain (include/brisk/workflow.hpp), logged in
// its submit record so that the task and its place cannot be parted by a
// crash. Batches and chains ride on task_submitted, task_completed and the
// ids append_numbered hands out (no record type of their own):
//   member    a task of batch `batch`; its final record (completed,
//             dead-lettered, cancelled) counts it.
//   batch     the batch itself: its id is the image's id, its callbacks are
//             `calls` ({on_success, on_complete}); logged again with `sealed`
//             when sealed (the later image replaces the earlier), and
//             task_completed of its id once its callbacks were submitted.
//             A checkpoint writes it with the counts of the members that
//             finished in the segments it folded, and in `which` the
//             callbacks already submitted (kOnSuccess | kOnComplete).
//   callback  a batch's callback (`which`: kOnSuccess or kOnComplete), so a
//             restart knows it was submitted and does not submit it again.
// Any role but batch may be a chain step: `calls` are the steps after it.
enum class WorkflowRole : std::uint8_t { none = 0, member = 1, batch = 2, callback = 3 };
struct Workflow {
  static constexpr std::uint8_t kOnSuccess = 1, kOnComplete = 2;
  WorkflowRole role = WorkflowRole::none;
  std::uint64_t batch = 0;
  std::vector<TaskCall> calls;
  bool sealed = false;                                         // batch
  std::uint64_t succeeded = 0, dead_lettered = 0, cancelled = 0;  // batch, in checkpoints
  std::uint8_t which = 0;                                      // callback; batch: see above
  bool present() const noexcept { return role != WorkflowRole::none || !calls.empty(); }
};

// A submitted task as the log keeps it. The engine maps its TaskRecord to a
// TaskImageRef (views into its own strings: no copy) to log a submit, and
// recovery hands back TaskImage (owning) for each task still to run.
template <class String, class WorkflowField>
struct BasicTaskImage {
  TaskId id = 0;
  String type_name;                     // the registered task type's name
  String payload;
  Priority priority = priority::normal;
  std::int64_t run_at_ns = 0;           // due time; 0: as soon as possible
  std::uint32_t attempt = 0;            // attempts started so far
  String idempotency_key;               // empty: none
  std::int64_t submit_ns = 0;           // when it was accepted (idempotency retention counts from here)
  WorkflowField workflow{};             // owning, or a pointer (nullptr: none)
};
using TaskImage = BasicTaskImage<std::string, Workflow>;
using TaskImageRef = BasicTaskImage<std::string_view, const Workflow*>;

inline TaskImageRef as_ref(const TaskImage& t) {
  return {t.id,          t.type_name,       t.payload,  t.priority, t.run_at_ns,
          t.attempt,     t.idempotency_key, t.submit_ns, t.workflow.present() ? &t.workflow : nullptr};
}

// Tasks that finished, any number per record: a worker logs the tasks of a
// batch it ran together. Ids in any order (each is coded as the zigzag
// difference from the one before it: a byte or two for nearby ids).
template <class Ids>
struct BasicTaskCompleted {
  Ids ids;
};
using TaskCompleted = BasicTaskCompleted<std::vector<TaskId>>;
using TaskCompletedRef = BasicTaskCompleted<std::span<const TaskId>>;
struct TaskRetryScheduled {
  TaskId id = 0;
  std::uint32_t attempt = 0;      // attempts started so far
  std::int64_t next_due_ns = 0;   // when the next attempt may start
};
struct TaskDeadLettered {
  TaskId id = 0;
  std::uint32_t attempts = 0;
  std::vector<AttemptFailure> failures;  // oldest first
};
struct TaskCancelled {
  TaskId id = 0;
};
struct DlqReplayed {
  TaskId id = 0;
};
// A full queue pushed this letter out to make room for a newer one. Logged,
// so that a restart does not bring it back only to push it out again.
struct DlqDropped {
  TaskId id = 0;
};
// Every dead letter of one stream (its id's stream_of) left the queue; or,
// with stream kAllLogStreams, every dead letter. The log writes a purge as
// one record per stream, each behind the dead letters logged in its stream
// before it.
inline constexpr std::uint32_t kAllLogStreams = kLogStreams;
struct DlqPurged {
  std::uint32_t stream = kAllLogStreams;
  bool covers(TaskId id) const noexcept { return stream == kAllLogStreams || stream == stream_of(id); }
};
struct SyncMark {
  std::uint64_t synced_bytes = 0;  // bytes of this file known durable when the batch began
};
struct KeyRetained {
  std::string key;
  TaskId id = 0;
  std::int64_t accepted_ns = 0;
};
struct CheckpointEnd {
  std::uint32_t through_segment = 0;  // the checkpoint replaces segments 1..through_segment
  std::uint64_t last_sequence = 0;    // LSN of the last record of through_segment
  TaskId max_task_id = 0;
};

// A decoded record of any type. TaskImage stands for task_submitted.
using Event = std::variant<SyncMark, TaskImage, TaskCompleted, TaskRetryScheduled, TaskDeadLettered,
                           TaskCancelled, DlqReplayed, DlqPurged, DlqDropped, KeyRetained, CheckpointEnd>;

// Appends the payload of each type to `out` (after begin_record()).
void encode(std::string& out, const TaskImageRef& e);
inline void encode(std::string& out, const TaskImage& e) { encode(out, as_ref(e)); }
void encode(std::string& out, const TaskCompletedRef& e);
inline void encode(std::string& out, const TaskCompleted& e) { encode(out, TaskCompletedRef{e.ids}); }
void encode(std::string& out, const TaskRetryScheduled& e);
void encode(std::string& out, const TaskDeadLettered& e);
void encode(std::string& out, const TaskCancelled& e);
void encode(std::string& out, const DlqReplayed& e);
void encode(std::string& out, const DlqPurged& e);
void encode(std::string& out, const DlqDropped& e);
void encode(std::string& out, const SyncMark& e);
void encode(std::string& out, const KeyRetained& e);
void encode(std::string& out, const CheckpointEnd& e);

// Bytes encode() appends for a submitted task; the log refuses a record
// whose payload is over kMaxPayloadSize, and the engine checks this first.
std::size_t encoded_size(const TaskImageRef& e) noexcept;

// The record type each payload is logged under.
constexpr RecordType type_of(const TaskImageRef&) noexcept { return RecordType::task_submitted; }
constexpr RecordType type_of(const TaskImage&) noexcept { return RecordType::task_submitted; }
constexpr RecordType type_of(const TaskCompleted&) noexcept { return RecordType::task_completed; }
constexpr RecordType type_of(const TaskCompletedRef&) noexcept { return RecordType::task_completed; }
constexpr RecordType type_of(const TaskRetryScheduled&) noexcept { return RecordType::task_retry_scheduled; }
constexpr RecordType type_of(const TaskDeadLettered&) noexcept { return RecordType::task_dead_lettered; }
constexpr RecordType type_of(const TaskCancelled&) noexcept { return RecordType::task_cancelled; }
constexpr RecordType type_of(const DlqReplayed&) noexcept { return RecordType::dlq_replayed; }
constexpr RecordType type_of(const DlqPurged&) noexcept { return RecordType::dlq_purged; }
constexpr RecordType type_of(const DlqDropped&) noexcept { return RecordType::dlq_dropped; }
constexpr RecordType type_of(const SyncMark&) noexcept { return RecordType::sync_mark; }
constexpr RecordType type_of(const KeyRetained&) noexcept { return RecordType::key_retained; }
constexpr RecordType type_of(const CheckpointEnd&) noexcept { return RecordType::checkpoint_end; }
RecordType type_of(const Event& e) noexcept;
// Encodes any decoded event back (checkpoints re-log what recovery read).
void encode(std::string& out, const Event& e);

// Decodes the payload of a record of `type`. Empty string on success,
// otherwise why the payload is not a valid record of that type.
std::string decode(RecordType type, std::string_view payload, Event* out);

// A one-line human-readable rendering for `brisk wal dump`.
std::string describe(const Event& e);

}  // namespace brisk::detail::wal
