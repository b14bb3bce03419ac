// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78): the
// checksum of every WAL record. It is the CRC the SSE4.2 `crc32` instruction
// computes, so on x86 it costs about one cycle per 8 bytes; a table-driven
// fallback serves CPUs without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace brisk::detail::wal::crc32c {

// Extends `crc` (the CRC of some earlier bytes; 0 for none) with data[0, n).
std::uint32_t extend(std::uint32_t crc, const void* data, std::size_t n) noexcept;

inline std::uint32_t value(const void* data, std::size_t n) noexcept { return extend(0, data, n); }
inline std::uint32_t value(std::string_view s) noexcept { return value(s.data(), s.size()); }

// The table-driven path extend() takes on CPUs without SSE4.2 (public so that
// tests can check both paths agree).
std::uint32_t extend_table(std::uint32_t crc, const void* data, std::size_t n) noexcept;

// True when extend() uses the SSE4.2 instruction (decided once, at startup).
bool hardware_accelerated() noexcept;

// A CRC stored next to the data it covers is masked, as LevelDB does: the CRC
// of a string that itself contains CRCs is otherwise prone to being
// degenerate (a CRC over data followed by its own CRC is a constant).
inline constexpr std::uint32_t kMaskDelta = 0xa282ead8u;

inline std::uint32_t mask(std::uint32_t crc) noexcept {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}
inline std::uint32_t unmask(std::uint32_t masked) noexcept {
  const std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace brisk::detail::wal::crc32c
