// WalTicket: an appended record's place in its stream, and the log that
// issued it: the n-th record of stream s, appended by the log opened as
// epoch e, is value e << kEpochShift | (n * kLogStreams + s), one integer a
// caller can keep anywhere. The epoch is the number of the segment that open
// started (kEpochBits of it), so a ticket of an earlier open of the same
// directory (an easy mistake after a restart) is told apart from this
// open's: waiting on it answers at once instead of waiting for a record that
// will never come. 0: the append was refused (the log has failed or is
// closed, see Wal::status(), or the record is larger than kMaxPayloadSize).
#pragma once

#include <cstdint>

#include "wal/records.hpp"

namespace brisk::detail::wal {

struct WalTicket {
  static constexpr unsigned kEpochBits = 12;
  static constexpr unsigned kEpochShift = 64 - kEpochBits;
  // The rest holds n * kLogStreams + s: 2^49 records a stream in one open,
  // six years at 3M records/s.

  std::uint64_t value = 0;

  // epoch < 2^kEpochBits
  static WalTicket of(std::uint32_t epoch, std::uint32_t stream, std::uint64_t nth) noexcept {
    return {static_cast<std::uint64_t>(epoch) << kEpochShift | (nth * kLogStreams + stream)};
  }
  std::uint32_t epoch() const noexcept { return static_cast<std::uint32_t>(value >> kEpochShift); }
  std::uint32_t stream() const noexcept { return static_cast<std::uint32_t>(value % kLogStreams); }
  std::uint64_t nth() const noexcept { return (value & ((std::uint64_t{1} << kEpochShift) - 1)) / kLogStreams; }
  // The ticket of the record `back` records before this one in its stream.
  WalTicket earlier(std::uint64_t back) const noexcept { return {value - back * kLogStreams}; }
  bool valid() const noexcept { return value != 0; }
};

}  // namespace brisk::detail::wal
