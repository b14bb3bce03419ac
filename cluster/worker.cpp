// brisk::cluster::Worker: pull consumers that feed the local engine.
//
// Per task type: one durable pull consumer shared by every node, one fetch
// thread that asks for exactly as many messages as the type has free slots
// (ConsumeOptions::max_in_flight), a slot per fetched message. A message is
// submitted to the local engine as an in-memory named task whose payload is
// the slot number and the message data; the wrapper handler registered with
// the engine runs the user's handler and settles the message from the
// outcome (ack, nak with backoff, or dead letter + term). One component
// thread sends in-progress acks for slots held long; one promotes delayed
// tasks that became due.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brisk/config.hpp"
#include "internal.hpp"
#include "worker_impl.hpp"

namespace brisk::cluster {

using detail::Counters;
using detail::nats_error;
using detail::Slot;

namespace {

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The engine's RetryPolicy: before attempt n+1, uniform in
// [0, min(cap, base * 2^(n-1))] with jitter, the bound itself without.
std::int64_t backoff_ms(const RetryPolicy& p, std::uint32_t attempt) {
  const std::int64_t base = p.base.count();
  const std::int64_t cap = p.cap.count();
  std::int64_t bound = base;
  for (std::uint32_t i = 1; i < attempt && bound < cap; ++i) bound *= 2;
  bound = std::min(bound, cap);
  if (!p.jitter || bound <= 0) return std::max<std::int64_t>(bound, 0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<std::int64_t>(0, bound)(rng);
}


// What the user's handler sees: the engine's context, with the cluster's
// payload, attempt (the delivery count), id (the stream sequence) and key.
class ClusterContext final : public TaskContext {
 public:
  ClusterContext(TaskContext& inner, std::string_view payload, Slot& slot, brisk::detail::DeferredSink& sink, void* type,
                 std::uint32_t index)
      : inner_(inner), payload_(payload), slot_(slot), sink_(sink), type_(type), index_(index) {}
  TaskId id() const noexcept override { return slot_.stream_seq; }
  std::string_view name() const noexcept override { return inner_.name(); }
  std::string_view payload() const noexcept override { return payload_; }
  std::uint32_t attempt() const noexcept override { return slot_.deliveries; }
  std::string_view idempotency_key() const noexcept override { return slot_.key; }
  std::int64_t soft_deadline_ns() const noexcept override { return inner_.soft_deadline_ns(); }
  bool past_soft_deadline() const noexcept override { return inner_.past_soft_deadline(); }
  bool cancellation_requested() const noexcept override {
    return slot_.overrun.load(std::memory_order_relaxed) || inner_.cancellation_requested();
  }
  // Kept by the local engine only: the cluster carries no results yet.
  void set_result(std::string_view bytes) override { inner_.set_result(bytes); }
  BatchId batch_id() const noexcept override { return inner_.batch_id(); }
  // The message is settled when the returned handle completes (the
  // worker's complete_deferred), not when the handler returns; the local
  // attempt is deferred with it, so the task keeps its slots meanwhile.
  DeferredOutcome defer() override {
    slot_.engine_attempt = inner_.defer();  // throws if called twice
    deferred_ = true;
    return DeferredOutcome(sink_, type_, nullptr, index_, 0);
  }
  bool deferred() const noexcept { return deferred_; }

 private:
  TaskContext& inner_;
  std::string_view payload_;
  Slot& slot_;
  brisk::detail::DeferredSink& sink_;
  void* const type_;
  const std::uint32_t index_;
  bool deferred_ = false;
};

}  // namespace

natsSubscription* Worker::Impl::bind(const std::string& durable, const std::string& filter, std::int64_t max_deliver,
                                     std::int64_t max_ack_pending) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.FilterSubject = filter.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(config.ack_wait).count();
  cc.MaxDeliver = max_deliver;
  cc.MaxAckPending = max_ack_pending;
  cc.DeliverPolicy = js_DeliverAll;
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const char* stream = client.config.stream.c_str();
  natsStatus s = js_AddConsumer(&ci, client.js, stream, &cc, nullptr, &jerr);
  if (s != NATS_OK) {
    // It exists with other settings (an older deployment): take ours.
    s = js_UpdateConsumer(&ci, client.js, stream, &cc, nullptr, &jerr);
  }
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: consumer " + durable, s, jerr));
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream;
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  s = js_PullSubscribe(&sub, client.js, filter.c_str(), durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: pull subscribe " + durable, s, jerr));
  return sub;
}

void Worker::Impl::fetch_loop(Type& t) {
  while (!stopping.load()) {
    int want = 0;
    {
      std::unique_lock lock(t.free_mu);
      t.free_cv.wait_for(lock, config.fetch_wait, [&] { return !t.free.empty() || stopping.load(); });
      want = static_cast<int>(std::min<std::size_t>(t.free.size(), static_cast<std::size_t>(config.max_batch)));
    }
    if (want == 0 || stopping.load()) continue;
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, t.sub, want, config.fetch_wait.count(), &jerr);
    if (s != NATS_OK && list.Count == 0) {
      // NATS_TIMEOUT: nothing to do. Anything else (server away): pause.
      if (s != NATS_TIMEOUT) sleep_for(std::chrono::milliseconds(100));
      natsMsgList_Destroy(&list);
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      admit(t, list.Msgs[i]);
      list.Msgs[i] = nullptr;
    }
    natsMsgList_Destroy(&list);
  }
}

void Worker::Impl::admit(Type& t, natsMsg* msg) {
  counters.fetched.fetch_add(1, std::memory_order_relaxed);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {
    natsMsg_Term(msg, nullptr);  // not a JetStream message: nothing to run
    natsMsg_Destroy(msg);
    return;
  }
  const auto deliveries = static_cast<std::uint32_t>(meta->NumDelivered);
  const std::uint64_t seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  if (deliveries > 1) counters.redelivered.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t max_attempts = std::max<std::uint32_t>(t.options.retry.max_attempts, 1);
  if (deliveries > max_attempts) {
    // Every attempt's lease expired (the process running it died or hung):
    // a poison task, dead-lettered without running it again.
    dead_letter(t, msg, seq, deliveries - 1, "attempts exhausted: the lease of every attempt expired");
    natsMsg_Destroy(msg);
    return;
  }
  std::uint32_t index = 0;
  {
    std::lock_guard lock(t.free_mu);
    index = t.free.back();  // fetched no more than the free slots; only this thread takes them
    t.free.pop_back();
  }
  Slot& slot = t.slots[index];
  std::string key = detail::task_key(msg);
  Priority prio = priority::normal;
  if (const std::string p = detail::header(msg, detail::kPriority); !p.empty()) {
    const unsigned long v = std::strtoul(p.c_str(), nullptr, 10);
    if (v < engine.config().priority_lanes) prio = static_cast<Priority>(v);
  }
  {
    std::lock_guard lock(slot.mu);
    slot.msg = msg;
    slot.stream_seq = seq;
    slot.deliveries = deliveries;
    slot.key = std::move(key);
    slot.last_progress_ns = steady_ns();
  }
  const int len = natsMsg_GetDataLength(msg);
  std::string payload(4 + static_cast<std::size_t>(len), '\0');
  std::memcpy(payload.data(), &index, 4);
  if (len > 0) std::memcpy(payload.data() + 4, natsMsg_GetData(msg), static_cast<std::size_t>(len));
  TaskOptions opts;
  opts.priority = prio;
  opts.durability = Durability::memory;  // the stream is the durable copy
  const SubmitResult r = engine.submit(t.name, std::move(payload), opts);
  if (!r) {
    // The local engine refused (full, shutting down): another node may take it.
    {
      std::lock_guard lock(slot.mu);
      slot.msg = nullptr;
    }
    natsMsg_NakWithDelay(msg, 100, nullptr);
    counters.naked.fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
    release(t, index);
  }
}

Outcome Worker::Impl::run(Type& t, TaskContext& ctx) {
  const std::string_view raw = ctx.payload();
  std::uint32_t index = 0;
  std::memcpy(&index, raw.data(), 4);
  Slot& slot = t.slots[index];
  {
    std::lock_guard lock(slot.mu);
    slot.run_started_ns = steady_ns();
  }
  ClusterContext cc(ctx, raw.substr(4), slot, *this, &t, index);
  Outcome outcome = Outcome::success();
  try {
    outcome = t.handler(cc);
  } catch (const std::exception& e) {
    outcome = t.options.exceptions_are_permanent ? Outcome::fail(e.what()) : Outcome::retry(e.what());
  } catch (...) {
    outcome = t.options.exceptions_are_permanent ? Outcome::fail("unknown exception")
                                                  : Outcome::retry("unknown exception");
  }
  // Deferred: its handle settles it. What the handler returned is ignored,
  // and so is a throw (the handle, if dropped, settles it as a retry).
  if (!cc.deferred()) settle(t, index, outcome);
  // The cluster settled it: the local engine neither retries nor dead-letters.
  return Outcome::success();
}

bool Worker::Impl::complete_deferred(void* record, void*, std::uint64_t tag, std::uint32_t, Outcome&& outcome,
                                     std::string&&) noexcept {
  Type& t = *static_cast<Type*>(record);
  const auto index = static_cast<std::uint32_t>(tag);
  // Taken before settle() gives the slot back for the next message.
  DeferredOutcome attempt = std::move(t.slots[index].engine_attempt);
  settle(t, index, outcome);
  attempt.succeed();  // the cluster settled it, as in run()
  return true;
}

void Worker::Impl::settle(Type& t, std::uint32_t index, const Outcome& outcome) {
  Slot& slot = t.slots[index];
  natsMsg* msg = nullptr;
  {
    std::lock_guard lock(slot.mu);  // from here the progress thread leaves it alone
    msg = slot.msg;
    slot.msg = nullptr;
    slot.run_started_ns = 0;
  }
  // Null: the hard limit settled it already (expire_overruns); the
  // handler's late outcome is dropped, its slot freed only now.
  if (msg != nullptr) settle_message(t, slot, msg, outcome);
  slot.overrun.store(false, std::memory_order_relaxed);
  release(t, index);
}

void Worker::Impl::settle_message(Type& t, Slot& slot, natsMsg* msg, const Outcome& outcome) {
  const std::uint32_t max_attempts = std::max<std::uint32_t>(t.options.retry.max_attempts, 1);
  switch (outcome.kind()) {
    case Outcome::Kind::success:
      natsMsg_Ack(msg, nullptr);
      counters.acked.fetch_add(1, std::memory_order_relaxed);
      break;
    case Outcome::Kind::retry:
      if (slot.deliveries >= max_attempts) {
        dead_letter(t, msg, slot.stream_seq, slot.deliveries, outcome.message());
      } else {
        // retry_after: the caller's delay (an HTTP Retry-After, say); else the backoff.
        natsMsg_NakWithDelay(msg,
                             outcome.retry_after_ns() >= 0 ? outcome.retry_after_ns() / 1'000'000
                                                           : backoff_ms(t.options.retry, slot.deliveries),
                             nullptr);
        counters.naked.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    case Outcome::Kind::fail:
      dead_letter(t, msg, slot.stream_seq, slot.deliveries, outcome.message());
      break;
  }
  natsMsg_Destroy(msg);
}

// A handler past its hard limit keeps its local thread (it cannot be
// stopped from outside) but not its message: the attempt ends as a retry
// (or a dead letter when it was the last), the lease goes back to the
// stream, and any node may run the next attempt after the backoff.
void Worker::Impl::expire_overruns(std::int64_t now) {
  for (auto& t : types) {
    const std::int64_t limit = t->options.hard_timeout.count();
    if (limit <= 0) continue;
    for (std::uint32_t i = 0; i < t->max_in_flight; ++i) {
      Slot& slot = t->slots[i];
      natsMsg* msg = nullptr;
      {
        std::lock_guard lock(slot.mu);
        if (slot.msg == nullptr || slot.run_started_ns == 0 || now - slot.run_started_ns < limit) continue;
        msg = slot.msg;
        slot.msg = nullptr;  // settle() will find it gone
        slot.overrun.store(true, std::memory_order_relaxed);
      }
      counters.hard_timeouts.fetch_add(1, std::memory_order_relaxed);
      settle_message(*t, slot, msg,
                     Outcome::retry("hard time limit of " + std::to_string(limit / 1'000'000) + " ms exceeded"));
    }
  }
}

void Worker::Impl::release(Type& t, std::uint32_t index) {
  {
    std::lock_guard lock(t.free_mu);
    t.free.push_back(index);
    // Under the lock: stop() returns once every index is back, and the Type
    // may go with the Worker right after, so nothing here may touch t later.
    t.free_cv.notify_all();
  }
}

// Publish the letter and wait for its acknowledgement, then term the task: a
// crash in between redelivers it, and the letter's message id makes the
// second publish a duplicate. If the letter cannot be stored the task stays
// in the work stream (nak) and the next delivery tries again.
void Worker::Impl::dead_letter(Type& t, natsMsg* msg, std::uint64_t seq, std::uint32_t attempts,
                               const std::string& error) {
  natsMsg* letter = nullptr;
  const std::string subject = client.dlq_subject(t.name);
  const std::string msg_id = "dlq:" + client.config.stream + ":" + std::to_string(seq);
  const std::string key = detail::task_key(msg);
  natsStatus s = natsMsg_Create(&letter, subject.c_str(), nullptr, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  if (s == NATS_OK) s = natsMsgHeader_Set(letter, detail::kMsgId, msg_id.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(letter, detail::kType, t.name.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(letter, detail::kAttempts, std::to_string(attempts).c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(letter, detail::kError, detail::header_safe(error).c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(letter, detail::kOriginSeq, std::to_string(seq).c_str());
  if (s == NATS_OK && !key.empty()) s = natsMsgHeader_Set(letter, detail::kKey, key.c_str());
  if (s == NATS_OK) s = client.publish_sync(letter);
  natsMsg_Destroy(letter);
  if (s == NATS_OK) {
    natsMsg_Term(msg, nullptr);
    counters.dead_lettered.fetch_add(1, std::memory_order_relaxed);
  } else {
    natsMsg_NakWithDelay(msg, 1000, nullptr);
    counters.naked.fetch_add(1, std::memory_order_relaxed);
  }
}

// Extends the lease of every message held longer than a third of ack_wait
// (queued in the engine or running), from this thread, not the task's.
void Worker::Impl::progress_loop() {
  const std::int64_t period = std::chrono::duration_cast<std::chrono::nanoseconds>(config.ack_wait).count() / 3;
  // Fine enough for the leases and for the shortest hard limit (within an
  // eighth of it), at least a millisecond.
  std::int64_t step = period / 4;
  for (const auto& t : types) {
    if (t->options.hard_timeout.count() > 0) step = std::min<std::int64_t>(step, t->options.hard_timeout.count() / 8);
  }
  const auto tick = std::chrono::nanoseconds(std::max<std::int64_t>(step, 1'000'000));
  while (sleep_for(tick, progress_stopping)) {
    const std::int64_t now = steady_ns();
    expire_overruns(now);
    for (auto& t : types) {
      for (Slot& slot : t->slots) {
        std::lock_guard lock(slot.mu);
        if (slot.msg != nullptr && now - slot.last_progress_ns >= period) {
          natsMsg_InProgress(slot.msg, nullptr);
          slot.last_progress_ns = now;
          counters.in_progress_sent.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
  }
}

// Delayed tasks wait in <prefix>.delayed.<type>: fetched before their due
// time they are naked with the remaining delay (they stay in the stream);
// once due they are republished to <prefix>.tasks.<type> (message id
// "due:<sequence>", so a crash between the publish and the ack cannot make
// two) and acked. Their delivery count is never a task attempt.
void Worker::Impl::delayed_loop() {
  const std::string prefix = client.delayed_prefix();
  while (!stopping.load()) {
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, delayed_sub, 64, config.fetch_wait.count(), &jerr);
    if (s != NATS_OK && list.Count == 0) {
      if (s != NATS_TIMEOUT) sleep_for(std::chrono::milliseconds(100));
      natsMsgList_Destroy(&list);
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* msg = list.Msgs[i];
      const std::string due_text = detail::header(msg, detail::kDue);
      const std::int64_t due = due_text.empty() ? 0 : std::stoll(due_text);
      const std::int64_t now = detail::wall_now_ns();
      if (due > now) {
        natsMsg_NakWithDelay(msg, (due - now + 999'999) / 1'000'000, nullptr);
        counters.delayed_naked.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      jsMsgMetaData* meta = nullptr;
      std::uint64_t seq = 0;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
      }
      const std::string type = std::string(natsMsg_GetSubject(msg)).substr(prefix.size());
      const std::string subject = client.tasks_subject(type);
      natsMsg* task = nullptr;
      natsStatus ps = natsMsg_Create(&task, subject.c_str(), nullptr, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      const std::string key = detail::task_key(msg);
      const std::string id = "due:" + client.config.stream + ":" + std::to_string(seq);
      if (ps == NATS_OK) ps = natsMsgHeader_Set(task, detail::kMsgId, id.c_str());
      if (ps == NATS_OK && !key.empty()) ps = natsMsgHeader_Set(task, detail::kKey, key.c_str());
      if (const std::string p = detail::header(msg, detail::kPriority); ps == NATS_OK && !p.empty())
        ps = natsMsgHeader_Set(task, detail::kPriority, p.c_str());
      if (ps == NATS_OK) ps = client.publish_sync(task);
      natsMsg_Destroy(task);
      if (ps == NATS_OK) {
        natsMsg_Ack(msg, nullptr);
        counters.delayed_promoted.fetch_add(1, std::memory_order_relaxed);
      } else {
        natsMsg_NakWithDelay(msg, 1000, nullptr);  // the work stream refused it: try again later
      }
    }
    natsMsgList_Destroy(&list);
  }
}

// ---- Worker ----

Worker::Worker(Client& client, Engine& engine, WorkerConfig config)
    : impl_(std::make_unique<Impl>(client, engine, config)) {
  if (config.ack_wait < std::chrono::milliseconds(100)) throw ConfigError("cluster: WorkerConfig::ack_wait below 100 ms");
  if (config.max_batch < 1) throw ConfigError("cluster: WorkerConfig::max_batch must be >= 1");
}

Worker::~Worker() { stop(); }

void Worker::register_handler(std::string type, Handler handler, const TaskTypeOptions& options,
                              const ConsumeOptions& consume) {
  if (impl_->started) throw ConfigError("cluster: register_task after Worker::start()");
  if (!detail::valid_token(type)) throw ConfigError("cluster: task type must be 1-64 characters of [A-Za-z0-9_-]");
  auto t = std::make_unique<Impl::Type>();
  t->name = type;
  t->handler = std::move(handler);
  t->options = options;
  t->max_in_flight = consume.max_in_flight == 0 ? 64 : consume.max_in_flight;
  t->subject = impl_->client.tasks_subject(type);
  t->durable = impl_->client.config.stream + "_" + type;
  t->slots = std::vector<Slot>(t->max_in_flight);
  for (std::uint32_t i = t->max_in_flight; i > 0; --i) t->free.push_back(i - 1);
  // Locally: one attempt, never dead-lettered here (the cluster decides).
  TaskTypeOptions local = options;
  local.retry.max_attempts = 1;
  local.exceptions_are_permanent = false;
  local.hard_timeout = {};  // enforced by this worker on the message (expire_overruns), not by a local retry
  Impl::Type* raw = t.get();
  Impl* impl = impl_.get();
  impl_->engine.register_task(type, [impl, raw](TaskContext& ctx) { return impl->run(*raw, ctx); }, local);
  impl_->types.push_back(std::move(t));
}

void Worker::start() {
  Impl& w = *impl_;
  if (w.started) return;
  for (auto& t : w.types) {
    const std::uint32_t max_attempts = std::max<std::uint32_t>(t->options.retry.max_attempts, 1);
    // The server stops redelivering after max_attempts + 3 deliveries even if
    // no worker dead-letters it (one delivery to dead-letter, two spare).
    t->sub = w.bind(t->durable, t->subject, static_cast<std::int64_t>(max_attempts) + 3, w.config.max_ack_pending);
  }
  if (w.config.promote_delayed) {
    // Delayed tasks wait naked in this consumer's pending set: room for many.
    w.delayed_sub = w.bind(w.client.config.stream + "_delayed", w.client.delayed_prefix() + ">", -1, 1'000'000);
  }
  w.started = true;
  for (auto& t : w.types) {
    Impl::Type* raw = t.get();
    t->fetcher = std::thread([&w, raw] { w.fetch_loop(*raw); });
  }
  w.progress_thread = std::thread([&w] { w.progress_loop(); });
  if (w.delayed_sub != nullptr) w.delayed_thread = std::thread([&w] { w.delayed_loop(); });
  w.metrics_source = w.engine.add_metrics_source([this] { return prometheus_text() + impl_->owner.prometheus_text(); });
}

void Worker::stop() {
  Impl& w = *impl_;
  if (!w.started || w.stopped) return;
  w.engine.remove_metrics_source(w.metrics_source);  // returns once a scrape in progress is done with it
  {
    std::lock_guard lock(w.stop_mu);
    w.stopping.store(true);
  }
  w.stop_cv.notify_all();
  for (auto& t : w.types) {
    t->free_cv.notify_all();
    if (t->fetcher.joinable()) t->fetcher.join();
  }
  if (w.delayed_thread.joinable()) w.delayed_thread.join();
  // What was fetched runs to its outcome (the engine runs accepted work);
  // the in-progress thread keeps its leases meanwhile.
  for (auto& t : w.types) {
    std::unique_lock lock(t->free_mu);
    t->free_cv.wait(lock, [&] { return t->free.size() == t->max_in_flight; });
  }
  {
    std::lock_guard lock(w.stop_mu);
    w.progress_stopping.store(true);
  }
  w.stop_cv.notify_all();
  if (w.progress_thread.joinable()) w.progress_thread.join();
  for (auto& t : w.types) natsSubscription_Destroy(t->sub);
  if (w.delayed_sub != nullptr) natsSubscription_Destroy(w.delayed_sub);
  w.stopped = true;
}

Worker::Stats Worker::stats() const {
  const Counters& c = impl_->counters;
  Stats s;
  s.fetched = c.fetched.load();
  s.acked = c.acked.load();
  s.naked = c.naked.load();
  s.dead_lettered = c.dead_lettered.load();
  s.in_progress_sent = c.in_progress_sent.load();
  s.delayed_promoted = c.delayed_promoted.load();
  s.delayed_naked = c.delayed_naked.load();
  s.redelivered = c.redelivered.load();
  s.hard_timeouts = c.hard_timeouts.load();
  return s;
}

}  // namespace brisk::cluster
