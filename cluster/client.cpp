// brisk::cluster::Client: submissions are JetStream publishes; the publish
// acknowledgement is the durable acknowledgement.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "internal.hpp"

namespace brisk::cluster {

namespace detail {

std::string nats_error(std::string_view what, natsStatus s, jsErrCode code) {
  std::string text(what);
  text += ": ";
  text += natsStatus_GetText(s);
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    text += ": ";
    text += last;
  }
  return text;
}

std::string header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) == NATS_OK && value != nullptr) return value;
  return {};
}

std::string task_key(natsMsg* msg) {
  std::string key = header(msg, kKey);
  return key.empty() ? header(msg, kMsgId) : key;
}

std::string header_safe(std::string_view text) {
  std::string out(text.substr(0, 1024));
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool valid_token(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace detail

using detail::nats_error;

namespace {

constexpr std::string_view kNotConnected = "cluster: not connected to a NATS server (server away or reconnecting)";
constexpr std::string_view kTooManyPending = "cluster: too many publishes awaiting JetStream's acknowledgement";
constexpr std::string_view kBadType = "cluster: task type must be 1-64 characters of [A-Za-z0-9_-]";
constexpr std::string_view kBadKey = "cluster: idempotency key must be at most 256 bytes without CR or LF";
constexpr std::string_view kTooLarge = "cluster: payload larger than the server's max_payload";
constexpr std::string_view kPublishFailed = "cluster: the publish could not be sent";
constexpr std::string_view kTimeout =
    "cluster: publish not acknowledged within publish_timeout (it may still be stored: resubmit with the same "
    "idempotency key)";
constexpr std::string_view kNoResponders = "cluster: no JetStream server answered (stream missing or no quorum)";
constexpr std::string_view kStreamFull = "cluster: task stream at its limits (max_msgs / max_bytes)";
constexpr std::string_view kNoStorage = "cluster: JetStream server out of storage";
constexpr std::string_view kRefused = "cluster: JetStream refused the publish";
constexpr std::string_view kDuplicate = "cluster: idempotency key already stored within the duplicates window";
constexpr std::string_view kForgotten = "cluster: answer no longer kept (older than answer_history)";

PublishAnswer refusal_for(const jsPubAckErr& pae) {
  PublishAnswer a;
  a.state = PublishAnswer::State::refused;
  a.status = SubmitStatus::durability_failed;
  const std::string_view text = pae.ErrText != nullptr ? pae.ErrText : "";
  if (pae.Err == NATS_TIMEOUT) {
    a.reason = kTimeout;
  } else if (pae.Err == NATS_NO_RESPONDERS) {
    a.reason = kNoResponders;
  } else if (pae.ErrCode == JSStreamStoreFailedErr || text.find("maximum") != std::string_view::npos) {
    a.status = SubmitStatus::rejected_full;
    a.reason = kStreamFull;
  } else if (pae.ErrCode == JSStorageResourcesExceededErr || text.find("resources") != std::string_view::npos) {
    a.status = SubmitStatus::rejected_full;
    a.reason = kNoStorage;
  } else {
    a.reason = kRefused;
  }
  return a;
}

// The streams brisk chooses (docs/cluster.md, "Settings").
void ensure_stream(jsCtx* js, const std::string& name, const std::vector<std::string>& subjects,
                   jsRetentionPolicy retention, const ClientConfig& config, bool limits) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return;
  }
  if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
    throw ClusterError(nats_error("cluster: stream info " + name, s, jerr));
  if (!config.create_streams) throw ClusterError("cluster: stream " + name + " does not exist (create_streams is off)");
  std::vector<const char*> subject_ptrs;
  for (const auto& sub : subjects) subject_ptrs.push_back(sub.c_str());
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = name.c_str();
  sc.Subjects = subject_ptrs.data();
  sc.SubjectsLen = static_cast<int>(subject_ptrs.size());
  sc.Retention = retention;
  sc.Storage = js_FileStorage;
  sc.Discard = js_DiscardNew;  // at a limit refuse the new message, never drop an accepted one
  sc.Replicas = config.replicas;
  sc.Duplicates = config.duplicate_window.count();
  if (limits) {
    sc.MaxMsgs = config.max_msgs;
    sc.MaxBytes = config.max_bytes;
  }
  s = js_AddStream(&si, js, &sc, nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return;
  }
  if (jerr == JSStreamNameExistErr) return;  // another process created it first
  throw ClusterError(nats_error("cluster: create stream " + name, s, jerr));
}

}  // namespace

Client::Impl::Impl(ClientConfig cfg) : config(std::move(cfg)) {
  if (config.servers.empty()) throw ClusterError("cluster: no server URL");
  if (!detail::valid_token(config.stream) || !detail::valid_token(config.dead_letter_stream) ||
      config.subject_prefix.empty() || config.subject_prefix.find_first_of(" *>") != std::string::npos)
    throw ClusterError("cluster: invalid stream name or subject prefix");
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  std::vector<const char*> urls;
  for (const auto& u : config.servers) urls.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, config.connection_name.c_str());
  // Keep trying for ever: a server that is away comes back; meanwhile
  // submissions are refused (not connected) and fetches wait.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: connect to " + config.servers.front(), s));
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = std::max<std::int64_t>(config.publish_timeout.count(), 1000);
  jo.PublishAsync.AckHandler = &Impl::on_ack;
  jo.PublishAsync.AckHandlerClosure = this;
  // Our own bound (max_pending_publishes) refuses first; the library's only
  // stalls a publisher.
  jo.PublishAsync.MaxPending = static_cast<std::int64_t>(config.max_pending_publishes) + 1;
  s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) {
    natsConnection_Destroy(nc);
    throw ClusterError(nats_error("cluster: JetStream context", s));
  }
  try {
    ensure_streams();
  } catch (...) {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    throw;
  }
}

void Client::Impl::ensure_streams() {
  ensure_stream(js, config.stream, {config.subject_prefix + ".tasks.>", config.subject_prefix + ".delayed.>"},
                js_WorkQueuePolicy, config, true);
  ensure_stream(js, config.dead_letter_stream, {config.subject_prefix + ".dlq.>"}, js_LimitsPolicy, config, false);
}

Client::Impl::~Impl() {
  flush();
  jsCtx_Destroy(js);
  natsConnection_Close(nc);
  natsConnection_Destroy(nc);
}

SubmitResult Client::Impl::publish(std::string_view type, std::string_view payload, const TaskOptions& options,
                                   const std::string& msg_id, const std::string& key_header) {
  SubmitResult r;
  if (!detail::valid_token(type)) {
    r.status = SubmitStatus::invalid;
    r.reason = kBadType;
    return r;
  }
  if (msg_id.size() > 256 || msg_id.find_first_of("\r\n") != std::string::npos) {
    r.status = SubmitStatus::invalid;
    r.reason = kBadKey;
    return r;
  }
  if (static_cast<std::int64_t>(payload.size()) + 512 > natsConnection_GetMaxPayload(nc) &&
      natsConnection_GetMaxPayload(nc) > 0) {
    r.status = SubmitStatus::invalid;
    r.reason = kTooLarge;
    return r;
  }
  if (natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED) {
    r.status = SubmitStatus::durability_failed;
    r.reason = kNotConnected;
    return r;
  }
  // Not due yet: the delayed subject, promoted by a worker when due.
  std::int64_t due_ns = 0;
  if (options.run_at_ns) {
    const std::int64_t steady_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count();
    if (*options.run_at_ns > steady_now) due_ns = detail::wall_now_ns() + (*options.run_at_ns - steady_now);
  } else if (options.delay.count() > 0) {
    due_ns = detail::wall_now_ns() + options.delay.count();
  }
  const std::string subject =
      due_ns != 0 ? delayed_prefix() + std::string(type) : tasks_subject(type);
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, payload.data(), static_cast<int>(payload.size()));
  if (s == NATS_OK && !msg_id.empty()) s = natsMsgHeader_Set(msg, detail::kMsgId, msg_id.c_str());
  if (s == NATS_OK && !key_header.empty()) s = natsMsgHeader_Set(msg, detail::kKey, key_header.c_str());
  if (s == NATS_OK && due_ns != 0) s = natsMsgHeader_Set(msg, detail::kDue, std::to_string(due_ns).c_str());
  if (s == NATS_OK && options.priority != priority::normal)
    s = natsMsgHeader_Set(msg, detail::kPriority, std::to_string(options.priority).c_str());
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    r.status = SubmitStatus::durability_failed;
    r.reason = kPublishFailed;
    return r;
  }
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mu);
    if (in_flight.size() >= config.max_pending_publishes) {
      natsMsg_Destroy(msg);
      r.status = SubmitStatus::rejected_backpressure;
      r.reason = kTooManyPending;
      r.retry_after = std::chrono::milliseconds(1);
      return r;
    }
    ticket = next_ticket++;
    answers.emplace_back();
    while (answers.size() > config.answer_history && answers.front().state != PublishAnswer::State::pending) {
      answers.pop_front();
      ++base_ticket;
    }
    in_flight.emplace(msg, ticket);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = config.publish_timeout.count();
  natsMsg* owned = msg;
  s = js_PublishMsgAsync(js, &owned, &po);
  if (s != NATS_OK) {
    // Not sent: no acknowledgement will come for it.
    {
      std::lock_guard lock(mu);
      in_flight.erase(msg);
      if (ticket >= base_ticket) {
        PublishAnswer& a = answers[ticket - base_ticket];
        a.state = PublishAnswer::State::refused;
        a.status = SubmitStatus::durability_failed;
        a.reason = s == NATS_CONNECTION_DISCONNECTED || s == NATS_CONNECTION_CLOSED ? kNotConnected : kPublishFailed;
      }
      answered.notify_all();  // under the lock: see on_ack
    }
    natsMsg_Destroy(owned);
    r.status = SubmitStatus::durability_failed;
    r.reason = s == NATS_CONNECTION_DISCONNECTED || s == NATS_CONNECTION_CLOSED ? kNotConnected : kPublishFailed;
    return r;
  }
  r.status = SubmitStatus::accepted;
  r.id = ticket;
  r.durable_ticket = ticket;
  return r;
}

void Client::Impl::on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<Impl*>(closure);
  {
    std::lock_guard lock(self->mu);
    if (auto it = self->in_flight.find(msg); it != self->in_flight.end()) {
      const std::uint64_t ticket = it->second;
      self->in_flight.erase(it);
      if (ticket >= self->base_ticket) {
        PublishAnswer& a = self->answers[ticket - self->base_ticket];
        if (pa != nullptr) {
          a.state = PublishAnswer::State::stored;
          a.status = pa->Duplicate ? SubmitStatus::duplicate : SubmitStatus::accepted;
          if (pa->Duplicate) a.reason = kDuplicate;
          a.stream_sequence = pa->Sequence;
        } else if (pae != nullptr) {
          a = refusal_for(*pae);
        } else {
          a.state = PublishAnswer::State::refused;
          a.status = SubmitStatus::durability_failed;
          a.reason = kRefused;
        }
      }
    }
    // Notified under the lock: once the lock is let go, a flush() in the
    // destructor may see in_flight empty and destroy the condition variable,
    // so this thread must not touch *self after it.
    self->answered.notify_all();
  }
  natsMsg_Destroy(msg);
}

natsStatus Client::Impl::publish_sync(natsMsg* msg) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = config.publish_timeout.count();
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_PublishMsg(&pa, js, msg, &po, &jerr);
  jsPubAck_Destroy(pa);
  return s;
}

PublishAnswer Client::Impl::answer(std::uint64_t ticket) const {
  std::lock_guard lock(mu);
  if (ticket == 0 || ticket >= next_ticket) {
    PublishAnswer a;
    a.state = PublishAnswer::State::refused;
    a.status = SubmitStatus::invalid;
    a.reason = "cluster: not a ticket of this client";
    return a;
  }
  if (ticket < base_ticket) {
    PublishAnswer a;
    a.state = PublishAnswer::State::forgotten;
    a.status = SubmitStatus::durability_failed;
    a.reason = kForgotten;
    return a;
  }
  return answers[ticket - base_ticket];
}

bool Client::Impl::wait(std::uint64_t ticket) const {
  std::unique_lock lock(mu);
  if (ticket == 0 || ticket >= next_ticket) return false;
  // The library times each publish out after publish_timeout; the margin
  // covers a callback that never comes (it should).
  const auto deadline = std::chrono::steady_clock::now() + config.publish_timeout + std::chrono::seconds(5);
  answered.wait_until(lock, deadline, [&] {
    return ticket < base_ticket || answers[ticket - base_ticket].state != PublishAnswer::State::pending;
  });
  if (ticket < base_ticket) return false;
  return answers[ticket - base_ticket].state == PublishAnswer::State::stored;
}

void Client::Impl::flush() const {
  std::unique_lock lock(mu);
  const auto deadline = std::chrono::steady_clock::now() + config.publish_timeout + std::chrono::seconds(5);
  answered.wait_until(lock, deadline, [&] { return in_flight.empty(); });
}

// ---- Client ----

Client::Client(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Client::~Client() = default;

SubmitResult Client::submit(std::string_view type, std::string_view payload, const TaskOptions& options) {
  return impl_->publish(type, payload, options, options.idempotency_key, {});
}

bool Client::is_durable(const SubmitResult& result) const {
  return impl_->answer(result.durable_ticket).state == PublishAnswer::State::stored;
}
bool Client::wait_durable(const SubmitResult& result) const { return impl_->wait(result.durable_ticket); }
PublishAnswer Client::answer(const SubmitResult& result) const { return impl_->answer(result.durable_ticket); }
void Client::flush() const { impl_->flush(); }
const ClientConfig& Client::config() const noexcept { return impl_->config; }

std::uint64_t Client::stream_messages() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->config.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: stream info", s, jerr));
  const std::uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

ClusterStatus Client::status() {
  ClusterStatus out;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->config.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: stream info", s, jerr));
  out.task_messages = si->State.Msgs;
  out.task_bytes = si->State.Bytes;
  jsStreamInfo_Destroy(si);

  jsConsumerInfoList* consumers = nullptr;
  s = js_Consumers(&consumers, impl_->js, impl_->config.stream.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    for (int i = 0; i < consumers->Count; ++i) {
      const jsConsumerInfo* ci = consumers->List[i];
      ConsumerStatus c;
      c.name = ci->Name != nullptr ? ci->Name : "";
      if (ci->Config != nullptr && ci->Config->FilterSubject != nullptr) c.filter_subject = ci->Config->FilterSubject;
      c.pending = ci->NumPending;
      c.ack_pending = ci->NumAckPending;
      c.redelivered = ci->NumRedelivered;
      c.waiting = ci->NumWaiting;
      out.consumers.push_back(std::move(c));
    }
    jsConsumerInfoList_Destroy(consumers);
  } else if (s != NATS_NOT_FOUND) {  // a stream without consumers answers "not found"
    throw ClusterError(nats_error("cluster: consumers", s, jerr));
  }

  // Per-subject counts of the dead-letter stream: <prefix>.dlq.<type>.
  jsOptions o;
  jsOptions_Init(&o);
  const std::string dlq_filter = impl_->config.subject_prefix + ".dlq.>";
  o.Stream.Info.SubjectsFilter = dlq_filter.c_str();
  s = js_GetStreamInfo(&si, impl_->js, impl_->config.dead_letter_stream.c_str(), &o, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: dead-letter stream info", s, jerr));
  out.dead_letters = si->State.Msgs;
  const std::size_t type_at = impl_->config.subject_prefix.size() + 5;  // after "<prefix>.dlq."
  if (si->State.Subjects != nullptr) {
    for (int i = 0; i < si->State.Subjects->Count; ++i) {
      const jsStreamStateSubject& subject = si->State.Subjects->List[i];
      const std::string name = subject.Subject;
      out.dead_letters_by_type.emplace_back(name.size() > type_at ? name.substr(type_at) : name, subject.Msgs);
    }
  }
  jsStreamInfo_Destroy(si);
  std::sort(out.consumers.begin(), out.consumers.end(),
            [](const ConsumerStatus& a, const ConsumerStatus& b) { return a.name < b.name; });
  std::sort(out.dead_letters_by_type.begin(), out.dead_letters_by_type.end());
  return out;
}

namespace {

bool read_dead_letter(jsCtx* js, const std::string& stream, std::uint64_t seq, ClusterDeadLetter& out) {
  natsMsg* m = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (js_GetMsg(&m, js, stream.c_str(), seq, nullptr, &jerr) != NATS_OK) return false;
  out.sequence = seq;
  out.type = detail::header(m, detail::kType);
  out.payload.assign(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
  out.idempotency_key = detail::header(m, detail::kKey);
  const std::string attempts = detail::header(m, detail::kAttempts);
  out.attempts = attempts.empty() ? 0 : static_cast<std::uint32_t>(std::stoul(attempts));
  out.last_error = detail::header(m, detail::kError);
  natsMsg_Destroy(m);
  return true;
}

}  // namespace

std::vector<ClusterDeadLetter> Client::dead_letters(std::size_t limit) {
  std::vector<ClusterDeadLetter> out;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->config.dead_letter_stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: dead-letter stream info", s, jerr));
  const std::uint64_t first = si->State.FirstSeq;
  const std::uint64_t last = si->State.LastSeq;
  const std::uint64_t count = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  for (std::uint64_t seq = first; count > 0 && seq <= last && out.size() < limit; ++seq) {
    ClusterDeadLetter letter;
    if (read_dead_letter(impl_->js, impl_->config.dead_letter_stream, seq, letter)) out.push_back(std::move(letter));
  }
  return out;
}

SubmitResult Client::replay_dead_letter(std::uint64_t sequence) {
  ClusterDeadLetter letter;
  SubmitResult r;
  if (!read_dead_letter(impl_->js, impl_->config.dead_letter_stream, sequence, letter)) {
    r.status = SubmitStatus::invalid;
    r.reason = "cluster: no such dead letter";
    return r;
  }
  // A fresh message id: the original key may still be inside the duplicates
  // window, where it would make the replay a duplicate of the dead task.
  r = impl_->publish(letter.type, letter.payload, TaskOptions{},
                     "replay:" + impl_->config.dead_letter_stream + ":" + std::to_string(sequence),
                     letter.idempotency_key);
  if (!r || !impl_->wait(r.durable_ticket)) return r;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  js_DeleteMsg(impl_->js, impl_->config.dead_letter_stream.c_str(), sequence, nullptr, &jerr);
  return r;
}

std::size_t Client::purge_dead_letters() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->config.dead_letter_stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: dead-letter stream info", s, jerr));
  const std::size_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  s = js_PurgeStream(impl_->js, impl_->config.dead_letter_stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) throw ClusterError(nats_error("cluster: purge dead letters", s, jerr));
  return n;
}

}  // namespace brisk::cluster
