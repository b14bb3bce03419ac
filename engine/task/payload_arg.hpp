// PayloadArg: a submitted payload on its way into a TaskRecord. Either the
// caller's std::string, whose buffer the record takes (no copy), or bytes
// the caller keeps (a std::string_view), copied into the record's own buffer:
// a released record keeps that buffer up to TaskTable::kKeptPayloadBytes, so
// the copy reuses its capacity and a steady stream of small payloads
// allocates nothing.
#pragma once

#include <string>
#include <string_view>

#include "task/task_record.hpp"

namespace brisk::detail {

class PayloadArg {
 public:
  PayloadArg(std::string&& owned) noexcept : owned_(&owned), bytes_(owned) {}  // NOLINT: implicit by design
  PayloadArg(std::string_view bytes) noexcept : bytes_(bytes) {}               // NOLINT
  PayloadArg(const std::string& bytes) noexcept : bytes_(bytes) {}             // NOLINT: copied, as a by-value string was

  std::string_view bytes() const noexcept { return bytes_; }

  // The payload, then the idempotency key, into the record's one buffer.
  void store_in(TaskRecord& record, std::string_view key) const {
    if (owned_ != nullptr) {
      record.set_payload(std::move(*owned_), key);
      return;
    }
    record.payload_and_key.assign(bytes_);
    record.payload_and_key.append(key);
    record.key_bytes = static_cast<std::uint16_t>(key.size());
  }

 private:
  std::string* owned_ = nullptr;
  std::string_view bytes_;
};

}  // namespace brisk::detail
