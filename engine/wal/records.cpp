#include "wal/records.hpp"

#include <cstdio>

#include "wal/coding.hpp"

namespace brisk::detail::wal {
namespace {

// A dead-letter record lists at most this many failures (register_task caps
// retry.max_attempts there), a completion record at most this many tasks (a
// worker logs one batch, at most steal_batch): more is damage, and a corrupt
// count must not make the decoder reserve gigabytes.
constexpr std::uint32_t kMaxFailures = 1u << 16;
constexpr std::uint32_t kMaxCompletions = 1u << 16;
// A workflow section lists at most this many calls (chain steps): more is
// damage, as above.
constexpr std::uint32_t kMaxWorkflowCalls = 1u << 16;

Encoder start(std::string& out) {
  Encoder enc(out);
  enc.u8(kPayloadVersion);
  return enc;
}

void id_only(std::string& out, TaskId id) { start(out).varint(id); }

std::size_t string_size(std::string_view s) noexcept { return varint_size(s.size()) + s.size(); }

// The workflow section, after a task image's own fields (records.hpp).
void encode_workflow(Encoder& enc, const Workflow& w) {
  enc.u8(static_cast<std::uint8_t>(w.role));
  enc.varint(w.batch);
  enc.varint(w.calls.size());
  for (const TaskCall& c : w.calls) {
    enc.bytes(c.task);
    enc.bytes(c.payload);
  }
  if (w.role == WorkflowRole::batch) {
    enc.u8(w.sealed ? 1 : 0);
    enc.varint(w.succeeded);
    enc.varint(w.dead_lettered);
    enc.varint(w.cancelled);
  }
  if (w.role == WorkflowRole::batch || w.role == WorkflowRole::callback) enc.u8(w.which);
}
// Keep in step with encode_workflow() above.
std::size_t workflow_size(const Workflow& w) noexcept {
  std::size_t n = 1 + varint_size(w.batch) + varint_size(w.calls.size());
  for (const TaskCall& c : w.calls) n += string_size(c.task) + string_size(c.payload);
  if (w.role == WorkflowRole::batch) {
    n += 1 + varint_size(w.succeeded) + varint_size(w.dead_lettered) + varint_size(w.cancelled);
  }
  if (w.role == WorkflowRole::batch || w.role == WorkflowRole::callback) n += 1;
  return n;
}
std::string decode_workflow(Decoder& d, Workflow* w) {
  const std::uint8_t role = d.u8();
  if (role > static_cast<std::uint8_t>(WorkflowRole::callback)) return "unknown workflow role " + std::to_string(role);
  w->role = static_cast<WorkflowRole>(role);
  w->batch = d.varint();
  const std::uint64_t n = d.varint();
  // Each call takes two bytes at least.
  if (n > kMaxWorkflowCalls || 2 * n > d.remaining()) return "workflow section lists " + std::to_string(n) + " calls";
  for (std::uint64_t i = 0; i < n && d.ok(); ++i) {
    TaskCall c;
    c.task = d.bytes();
    c.payload = d.bytes();
    w->calls.push_back(std::move(c));
  }
  if (w->role == WorkflowRole::batch) {
    w->sealed = d.u8() != 0;
    w->succeeded = d.varint();
    w->dead_lettered = d.varint();
    w->cancelled = d.varint();
  }
  if (w->role == WorkflowRole::batch || w->role == WorkflowRole::callback) w->which = d.u8();
  return {};
}

template <class T>
std::string finish(Decoder& d, T&& value, Event* out) {
  if (!d.ok()) return "payload truncated";
  if (!d.done()) return "payload has " + std::to_string(d.remaining()) + " trailing bytes";
  *out = std::forward<T>(value);
  return {};
}

}  // namespace

void encode(std::string& out, const TaskImageRef& e) {
  Encoder enc(out);
  enc.u8(e.workflow != nullptr ? kWorkflowPayloadVersion : kPayloadVersion);
  enc.varint(e.id);
  enc.bytes(e.type_name);
  enc.bytes(e.payload);
  enc.u8(e.priority);
  enc.varint(zigzag(e.run_at_ns));  // usually 0 (run now): one byte
  enc.varint(e.attempt);
  enc.bytes(e.idempotency_key);
  enc.i64(e.submit_ns);
  if (e.workflow != nullptr) encode_workflow(enc, *e.workflow);
}
// Keep in step with encode() above.
std::size_t encoded_size(const TaskImageRef& e) noexcept {
  return 1 + varint_size(e.id) + string_size(e.type_name) + string_size(e.payload) + 1 +
         varint_size(zigzag(e.run_at_ns)) + varint_size(e.attempt) + string_size(e.idempotency_key) + 8 +
         (e.workflow != nullptr ? workflow_size(*e.workflow) : 0);
}
void encode(std::string& out, const TaskCompletedRef& e) {
  Encoder enc = start(out);
  enc.varint(e.ids.size());
  TaskId previous = 0;
  for (const TaskId id : e.ids) {
    enc.varint(zigzag(static_cast<std::int64_t>(id - previous)));
    previous = id;
  }
}
void encode(std::string& out, const TaskRetryScheduled& e) {
  Encoder enc = start(out);
  enc.varint(e.id);
  enc.varint(e.attempt);
  enc.i64(e.next_due_ns);
}
void encode(std::string& out, const TaskDeadLettered& e) {
  Encoder enc = start(out);
  enc.varint(e.id);
  enc.varint(e.attempts);
  enc.varint(e.failures.size());
  for (const AttemptFailure& f : e.failures) {
    enc.i64(f.time_ns);
    enc.varint(f.attempt);
    enc.bytes(f.message);
  }
}
void encode(std::string& out, const TaskCancelled& e) { id_only(out, e.id); }
void encode(std::string& out, const DlqReplayed& e) { id_only(out, e.id); }
void encode(std::string& out, const DlqDropped& e) { id_only(out, e.id); }
void encode(std::string& out, const DlqPurged& e) {
  Encoder enc = start(out);
  if (e.stream != kAllLogStreams) enc.u8(static_cast<std::uint8_t>(e.stream));  // no byte: all streams
}
void encode(std::string& out, const SyncMark& e) { start(out).u64(e.synced_bytes); }
void encode(std::string& out, const KeyRetained& e) {
  Encoder enc = start(out);
  enc.bytes(e.key);
  enc.varint(e.id);
  enc.i64(e.accepted_ns);
}
void encode(std::string& out, const CheckpointEnd& e) {
  Encoder enc = start(out);
  enc.u32(e.through_segment);
  enc.u64(e.last_sequence);
  enc.u64(e.max_task_id);
}

RecordType type_of(const Event& e) noexcept {
  return std::visit([](const auto& v) { return type_of(v); }, e);
}

void encode(std::string& out, const Event& e) {
  std::visit([&out](const auto& v) { encode(out, v); }, e);
}

std::string decode(RecordType type, std::string_view payload, Event* out) {
  Decoder d(payload);
  const std::uint8_t version = d.u8();
  if (!d.ok()) return "empty payload";
  const bool workflow = version == kWorkflowPayloadVersion && type == RecordType::task_submitted;
  if (version != kPayloadVersion && !workflow) return "unsupported payload version " + std::to_string(version);
  switch (type) {
    case RecordType::sync_mark: return finish(d, SyncMark{d.u64()}, out);
    case RecordType::task_submitted: {
      TaskImage t;
      t.id = d.varint();
      t.type_name = d.bytes();
      t.payload = d.bytes();
      t.priority = d.u8();
      t.run_at_ns = unzigzag(d.varint());
      t.attempt = d.varint32();
      t.idempotency_key = d.bytes();
      t.submit_ns = d.i64();
      if (workflow) {
        if (std::string why = decode_workflow(d, &t.workflow); !why.empty()) return why;
      }
      return finish(d, std::move(t), out);
    }
    case RecordType::task_completed: {
      const std::uint64_t n = d.varint();
      // Each id takes a byte at least: a larger count is damage (and must
      // not make the decoder reserve gigabytes).
      if (n == 0 || n > kMaxCompletions || n > d.remaining()) {
        return "completion record lists " + std::to_string(n) + " tasks";
      }
      TaskCompleted c;
      c.ids.reserve(n);
      TaskId previous = 0;
      for (std::uint64_t i = 0; i < n && d.ok(); ++i) {
        previous += static_cast<TaskId>(unzigzag(d.varint()));
        c.ids.push_back(previous);
      }
      return finish(d, std::move(c), out);
    }
    case RecordType::task_retry_scheduled: {
      TaskRetryScheduled r;
      r.id = d.varint();
      r.attempt = d.varint32();
      r.next_due_ns = d.i64();
      return finish(d, r, out);
    }
    case RecordType::task_dead_lettered: {
      TaskDeadLettered r;
      r.id = d.varint();
      r.attempts = d.varint32();
      const std::uint64_t n = d.varint();
      if (n > kMaxFailures) return "dead letter lists " + std::to_string(n) + " failures";
      for (std::uint64_t i = 0; i < n && d.ok(); ++i) {
        AttemptFailure f;
        f.time_ns = d.i64();
        f.attempt = d.varint32();
        f.message = d.bytes();
        r.failures.push_back(std::move(f));
      }
      return finish(d, std::move(r), out);
    }
    case RecordType::task_cancelled: return finish(d, TaskCancelled{d.varint()}, out);
    case RecordType::dlq_replayed: return finish(d, DlqReplayed{d.varint()}, out);
    case RecordType::dlq_dropped: return finish(d, DlqDropped{d.varint()}, out);
    case RecordType::dlq_purged: {
      DlqPurged p;
      if (!d.done()) {
        p.stream = d.u8();
        if (p.stream >= kLogStreams) return "purge names log stream " + std::to_string(p.stream);
      }
      return finish(d, p, out);
    }
    case RecordType::key_retained: {
      KeyRetained k;
      k.key = d.bytes();
      k.id = d.varint();
      k.accepted_ns = d.i64();
      return finish(d, std::move(k), out);
    }
    case RecordType::checkpoint_end: {
      CheckpointEnd c;
      c.through_segment = d.u32();
      c.last_sequence = d.u64();
      c.max_task_id = d.u64();
      return finish(d, c, out);
    }
  }
  return "unknown record type " + std::to_string(static_cast<unsigned>(type));
}

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string num(std::int64_t v) { return std::to_string(v); }
std::string num(std::uint64_t v) { return std::to_string(v); }

}  // namespace

std::string describe(const Event& e) {
  struct Visitor {
    std::string operator()(const SyncMark& m) const { return "synced_bytes=" + num(m.synced_bytes); }
    std::string operator()(const TaskImage& t) const {
      return "id=" + num(t.id) + " type=" + quoted(t.type_name) + " payload_bytes=" + num(std::uint64_t{t.payload.size()}) +
             " priority=" + num(std::uint64_t{t.priority}) + " run_at_ns=" + num(t.run_at_ns) +
             " attempt=" + num(std::uint64_t{t.attempt}) + " key=" + quoted(t.idempotency_key) +
             " submit_ns=" + num(t.submit_ns) + workflow(t.workflow);
    }
    static std::string workflow(const Workflow& w) {
      if (!w.present()) return {};
      static constexpr std::string_view kRoles[] = {"none", "member", "batch", "callback"};
      std::string s = " workflow=" + std::string(kRoles[static_cast<std::size_t>(w.role)]) + " batch=" + num(w.batch);
      for (const TaskCall& c : w.calls) s += " call=" + quoted(c.task) + "/" + num(std::uint64_t{c.payload.size()}) + "B";
      if (w.role == WorkflowRole::batch) {
        s += std::string(w.sealed ? " sealed" : " open") + " succeeded=" + num(w.succeeded) +
             " dead_lettered=" + num(w.dead_lettered) + " cancelled=" + num(w.cancelled) +
             " callbacks_logged=" + num(std::uint64_t{w.which});
      } else if (w.role == WorkflowRole::callback) {
        s += w.which == Workflow::kOnSuccess ? " on_success" : " on_complete";
      }
      return s;
    }
    std::string operator()(const TaskCompleted& c) const {
      std::string s = "ids=";
      for (std::size_t i = 0; i < c.ids.size(); ++i) {
        if (i != 0) s += ',';
        s += num(c.ids[i]);
      }
      return s;
    }
    std::string operator()(const TaskRetryScheduled& r) const {
      return "id=" + num(r.id) + " attempt=" + num(std::uint64_t{r.attempt}) + " next_due_ns=" + num(r.next_due_ns);
    }
    std::string operator()(const TaskDeadLettered& d) const {
      std::string s = "id=" + num(d.id) + " attempts=" + num(std::uint64_t{d.attempts});
      for (const AttemptFailure& f : d.failures) {
        s += " [attempt " + num(std::uint64_t{f.attempt}) + " at " + num(f.time_ns) + ": " + quoted(f.message) + "]";
      }
      return s;
    }
    std::string operator()(const TaskCancelled& c) const { return "id=" + num(c.id); }
    std::string operator()(const DlqReplayed& r) const { return "id=" + num(r.id); }
    std::string operator()(const DlqDropped& r) const { return "id=" + num(r.id); }
    std::string operator()(const DlqPurged& p) const {
      return p.stream == kAllLogStreams ? "streams=all" : "stream=" + num(std::uint64_t{p.stream});
    }
    std::string operator()(const KeyRetained& k) const {
      return "key=" + quoted(k.key) + " id=" + num(k.id) + " accepted_ns=" + num(k.accepted_ns);
    }
    std::string operator()(const CheckpointEnd& c) const {
      return "through_segment=" + num(std::uint64_t{c.through_segment}) + " last_sequence=" + num(c.last_sequence) +
             " max_task_id=" + num(c.max_task_id);
    }
  };
  return std::visit(Visitor{}, e);
}

}  // namespace brisk::detail::wal
