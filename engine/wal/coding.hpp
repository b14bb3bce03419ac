// Little-endian fixed-width encoding for the log. Every integer on disk is
// little-endian whatever the host; strings are a u32 length then the bytes.
// Decoding is bounds-checked and never reads past the input: a Decoder that
// runs short turns `ok()` false and returns zeros from then on.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace brisk::detail::wal {

inline void store_u32(char* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void store_u64(char* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline std::uint32_t load_u32(const char* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
inline std::uint64_t load_u64(const char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// Appends to a std::string (which the writer reuses, so appends rarely allocate).
class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    char b[4];
    store_u32(b, v);
    out_.append(b, 4);
  }
  void u64(std::uint64_t v) {
    char b[8];
    store_u64(b, v);
    out_.append(b, 8);
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void bytes(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }

 private:
  std::string& out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return take(1) ? static_cast<std::uint8_t>(last_[0]) : 0; }
  std::uint32_t u32() { return take(4) ? load_u32(last_) : 0; }
  std::uint64_t u64() { return take(8) ? load_u64(last_) : 0; }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string_view bytes() {
    const std::uint32_t n = u32();
    return take(n) ? std::string_view(last_, n) : std::string_view();
  }
  bool ok() const noexcept { return ok_; }
  bool done() const noexcept { return ok_ && in_.empty(); }  // consumed exactly
  std::size_t remaining() const noexcept { return in_.size(); }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      in_ = {};
      return false;
    }
    last_ = in_.data();
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
  const char* last_ = nullptr;
  bool ok_ = true;
};

}  // namespace brisk::detail::wal
