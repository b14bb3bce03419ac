#include "wal/recovery.hpp"

#include <algorithm>

namespace brisk::detail::wal {
namespace {

template <class Map>
auto in_order(const Map& map) {
  using Value = decltype(map.begin()->second.value);
  std::vector<std::pair<std::uint64_t, const Value*>> sorted;
  sorted.reserve(map.size());
  for (const auto& [id, entry] : map) sorted.emplace_back(entry.order, &entry.value);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const Value*> out;
  out.reserve(sorted.size());
  for (const auto& [order, value] : sorted) out.push_back(value);
  return out;
}

}  // namespace

void StateBuilder::apply(Event&& event) {
  struct Visitor {
    StateBuilder& s;
    void note_id(TaskId id) const { s.max_task_id_ = std::max(s.max_task_id_, id); }
    // Two tasks with one key (the second accepted after the first's
    // retention ran out) may sit in different streams, in either order in
    // the log: the later acceptance wins.
    void note_key(std::string_view key, TaskId id, std::int64_t accepted_ns) const {
      const auto [it, inserted] = s.keys_.try_emplace(std::string(key), IdempotencyKey{std::string(key), id, accepted_ns});
      if (!inserted && accepted_ns >= it->second.accepted_ns) it->second = {std::string(key), id, accepted_ns};
    }
    void operator()(SyncMark&) const {}
    // The batch a workflow record counts into, made on first sight (its own
    // image may come later in the file: streams interleave within a batch).
    TaskImage& batch(TaskId id) const {
      Ordered<TaskImage>& b = s.batches_[id];
      b.value.workflow.role = WorkflowRole::batch;
      b.value.id = id;
      return b.value;
    }
    // A member reached its final state: its batch counts it.
    void count(TaskId id, std::uint64_t Workflow::*counter) const {
      const auto it = s.live_.find(id);
      if (it == s.live_.end()) return;
      const Workflow& w = it->second.value.workflow;
      if (w.role == WorkflowRole::member) ++(batch(w.batch).workflow.*counter);
    }
    void operator()(TaskImage& t) const {
      note_id(t.id);
      if (t.workflow.role == WorkflowRole::batch) {
        // Opened, sealed, or a checkpoint's summary: counts add up, flags stay set.
        TaskImage& b = batch(t.id);
        if (b.type_name.empty()) s.batches_[t.id].order = s.next_order_++;  // first image: opened now
        Workflow& w = b.workflow;
        w.succeeded += t.workflow.succeeded;
        w.dead_lettered += t.workflow.dead_lettered;
        w.cancelled += t.workflow.cancelled;
        w.which |= t.workflow.which;
        w.sealed = w.sealed || t.workflow.sealed;
        w.calls = std::move(t.workflow.calls);
        b.type_name = std::move(t.type_name);
        b.submit_ns = t.submit_ns;
        return;
      }
      if (t.workflow.role == WorkflowRole::callback) batch(t.workflow.batch).workflow.which |= t.workflow.which;
      if (!t.idempotency_key.empty()) note_key(t.idempotency_key, t.id, t.submit_ns);
      const TaskId id = t.id;
      s.live_.insert_or_assign(id, Ordered<TaskImage>{s.next_order_++, std::move(t)});
    }
    void operator()(TaskCompleted& c) const {
      for (const TaskId id : c.ids) {
        // A batch's own id completes once its callbacks were submitted: done.
        if (s.batches_.erase(id) != 0) continue;
        count(id, &Workflow::succeeded);
        s.live_.erase(id);
      }
    }
    void operator()(TaskCancelled& c) const {
      count(c.id, &Workflow::cancelled);
      s.live_.erase(c.id);
    }
    void operator()(TaskRetryScheduled& r) const {
      if (const auto it = s.live_.find(r.id); it != s.live_.end()) {
        it->second.value.attempt = r.attempt;
        it->second.value.run_at_ns = r.next_due_ns;
      }
    }
    void operator()(TaskDeadLettered& d) const {
      note_id(d.id);
      count(d.id, &Workflow::dead_lettered);
      auto node = s.live_.extract(d.id);
      // The task's records share a stream, so its submit record comes first:
      // missing, it was skipped as damage. A letter without a name cannot be
      // replayed.
      if (node.empty()) {
        s.orphans_.insert(d.id);
        return;
      }
      Dead dead{std::move(node.mapped().value), std::move(d)};
      // Counted above: a checkpoint re-logs the letter with its image, which
      // must not count it again.
      dead.image.workflow = {};
      s.dead_.insert_or_assign(dead.letter.id, Ordered<Dead>{s.next_order_++, std::move(dead)});
    }
    void leave_queue(TaskId id) const {
      s.dead_.erase(id);
      s.orphans_.erase(id);
    }
    void operator()(DlqReplayed& r) const { leave_queue(r.id); }
    void operator()(DlqDropped& r) const { leave_queue(r.id); }
    void operator()(DlqPurged& p) const {
      std::erase_if(s.dead_, [&p](const auto& entry) { return p.covers(entry.first); });
      std::erase_if(s.orphans_, [&p](TaskId id) { return p.covers(id); });
    }
    void operator()(KeyRetained& k) const {
      note_id(k.id);
      note_key(k.key, k.id, k.accepted_ns);
    }
    void operator()(CheckpointEnd& c) const { note_id(c.max_task_id); }
  };
  std::visit(Visitor{*this}, event);
}

std::vector<const TaskImage*> StateBuilder::incomplete_in_order() const { return in_order(live_); }
std::vector<const StateBuilder::Dead*> StateBuilder::dead_in_order() const { return in_order(dead_); }

std::vector<const TaskImage*> StateBuilder::batches_in_order() const {
  std::vector<const TaskImage*> out;
  for (const TaskImage* b : in_order(batches_)) {
    if (!b->type_name.empty()) out.push_back(b);
  }
  return out;
}

std::vector<IdempotencyKey> StateBuilder::keys(const KeyRetention& retention) const {
  std::vector<IdempotencyKey> out;
  for (const auto& [key, entry] : keys_) {
    if (retention.keeps(entry.accepted_ns)) out.push_back(entry);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.accepted_ns < b.accepted_ns; });
  return out;
}

RecoveredState StateBuilder::finish(const KeyRetention& retention) const {
  RecoveredState state;
  for (const TaskImage* t : incomplete_in_order()) state.incomplete.push_back(*t);
  for (const TaskImage* b : batches_in_order()) state.batches.push_back({*b});
  for (const Dead* d : dead_in_order()) {
    DeadLetter letter;
    letter.id = d->letter.id;
    letter.name = d->image.type_name;
    letter.payload = d->image.payload;
    letter.attempts = d->letter.attempts;
    letter.failures = d->letter.failures;
    state.dead_letters.push_back(std::move(letter));
  }
  state.orphan_dead_letters.assign(orphans_.begin(), orphans_.end());
  state.idempotency_keys = keys(retention);
  state.max_task_id = max_task_id_;
  return state;
}

ReadReport read_into(WalEnv& env, const std::string& dir, const ReadOptions& options, StateBuilder* builder) {
  return read_log(env, dir, options, [builder](const RecordView& r) { builder->apply(std::move(r.event)); });
}

Status recover(WalEnv& env, const std::string& dir, const RecoveryOptions& options, RecoveredState* out) {
  StateBuilder builder;
  ReadReport report = read_into(env, dir, {options.mode, 0}, &builder);
  if (report.status) *out = builder.finish(options.retention);
  out->last_sequence = report.last_sequence;
  out->report = std::move(report);
  return out->report.status;
}

}  // namespace brisk::detail::wal
