// Integer and string encoding for the log. Fixed-width integers are
// little-endian whatever the host. Varints are LEB128 as in protobuf and
// LevelDB (7 bits a byte, low group first, high bit set on all but the last
// byte); signed values that may be small in magnitude either way are zigzag
// mapped first. Strings are a varint length then the bytes.
// Decoding is bounds-checked and never reads past the input: a Decoder that
// runs short (or meets a varint longer than 10 bytes or over 64 bits) turns
// `ok()` false and returns zeros from then on.
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

inline constexpr std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
inline constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline constexpr std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
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
  void varint(std::uint64_t v) {
    char b[10];
    std::size_t n = 0;
    for (; v >= 0x80; v >>= 7) b[n++] = static_cast<char>(v | 0x80);
    b[n++] = static_cast<char>(v);
    out_.append(b, n);
  }
  void bytes(std::string_view s) {
    varint(s.size());
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
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (!take(1)) return 0;
      const auto byte = static_cast<std::uint8_t>(last_[0]);
      // The tenth byte holds bit 63 alone: anything more overflows.
      if (shift == 63 && byte > 1) break;
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    fail();
    return 0;
  }
  // A varint that must fit 32 bits (attempt counts): a larger one is damage.
  std::uint32_t varint32() {
    const std::uint64_t v = varint();
    if (v <= UINT32_MAX) return static_cast<std::uint32_t>(v);
    fail();
    return 0;
  }
  std::string_view bytes() {
    const std::uint64_t n = varint();
    return take(n) ? std::string_view(last_, n) : std::string_view();
  }
  bool ok() const noexcept { return ok_; }
  bool done() const noexcept { return ok_ && in_.empty(); }  // consumed exactly
  std::size_t remaining() const noexcept { return in_.size(); }

 private:
  void fail() {
    ok_ = false;
    in_ = {};
  }
  bool take(std::uint64_t n) {
    if (!ok_ || in_.size() < n) {
      fail();
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
