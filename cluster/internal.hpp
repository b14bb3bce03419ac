// What the cluster client and worker share: the NATS handles, the header
// names, small helpers. Not installed.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "brisk/cluster.hpp"

namespace brisk::cluster::detail {

// Headers brisk adds to a task message (Nats-Msg-Id is JetStream's own).
inline constexpr const char* kMsgId = "Nats-Msg-Id";
inline constexpr const char* kDue = "Brisk-Due";            // wall clock, ns since the epoch
inline constexpr const char* kKey = "Brisk-Key";            // the key, when Nats-Msg-Id is not it
inline constexpr const char* kPriority = "Brisk-Priority";
// Dead letters.
inline constexpr const char* kType = "Brisk-Type";
inline constexpr const char* kAttempts = "Brisk-Attempts";
inline constexpr const char* kError = "Brisk-Error";
inline constexpr const char* kOriginSeq = "Brisk-Origin-Seq";

std::string nats_error(std::string_view what, natsStatus s, jsErrCode code = static_cast<jsErrCode>(0));

// A header's value, or empty.
std::string header(natsMsg* msg, const char* key);
// A task message's idempotency key: Brisk-Key, else Nats-Msg-Id (or empty).
std::string task_key(natsMsg* msg);
// A header value without CR/LF (NATS header syntax), at most 1024 bytes.
std::string header_safe(std::string_view text);

std::int64_t wall_now_ns();

// Type names become subject tokens and consumer names: [A-Za-z0-9_-], 1..64.
bool valid_token(std::string_view name);

}  // namespace brisk::cluster::detail

namespace brisk::cluster {

struct Client::Impl {
  explicit Impl(ClientConfig config);
  ~Impl();

  // Publishes asynchronously; msg_id empty: none. Returns accepted with a
  // ticket or a refusal.
  SubmitResult publish(std::string_view type, std::string_view payload, const TaskOptions& options,
                       const std::string& msg_id, const std::string& key_header);
  // Publishes and waits for the acknowledgement (dead letters, promotions).
  natsStatus publish_sync(natsMsg* msg);
  PublishAnswer answer(std::uint64_t ticket) const;
  bool wait(std::uint64_t ticket) const;
  void flush() const;

  static void on_ack(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
  void ensure_streams();
  std::string tasks_subject(std::string_view type) const { return config.subject_prefix + ".tasks." + std::string(type); }
  std::string delayed_prefix() const { return config.subject_prefix + ".delayed."; }
  std::string dlq_subject(std::string_view type) const { return config.subject_prefix + ".dlq." + std::string(type); }

  ClientConfig config;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;

  mutable std::mutex mu;
  mutable std::condition_variable answered;
  std::deque<PublishAnswer> answers;  // answers[i] is ticket base_ticket + i
  std::uint64_t base_ticket = 1;
  std::uint64_t next_ticket = 1;
  std::unordered_map<natsMsg*, std::uint64_t> in_flight;
};

}  // namespace brisk::cluster
