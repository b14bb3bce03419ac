// CRC32C against the published test vectors: the "123456789" check value
// and the iSCSI vectors of RFC 3720 appendix B.4, on both code paths.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "support/test_seed.hpp"
#include "wal/crc32c.hpp"

namespace crc32c = brisk::detail::wal::crc32c;

namespace {

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t (*f)(std::size_t)) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = f(i);
  return v;
}

void expect_both_paths(const std::vector<std::uint8_t>& data, std::uint32_t want) {
  EXPECT_EQ(crc32c::value(data.data(), data.size()), want);
  EXPECT_EQ(crc32c::extend_table(0, data.data(), data.size()), want);
}

}  // namespace

TEST(WalCrc32c, StandardCheckValue) {
  EXPECT_EQ(crc32c::value(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c::extend_table(0, "123456789", 9), 0xE3069283u);
}

TEST(WalCrc32c, IscsiVectors) {
  expect_both_paths(bytes(32, [](std::size_t) -> std::uint8_t { return 0x00; }), 0x8A9136AAu);
  expect_both_paths(bytes(32, [](std::size_t) -> std::uint8_t { return 0xff; }), 0x62A8AB43u);
  expect_both_paths(bytes(32, [](std::size_t i) { return static_cast<std::uint8_t>(i); }), 0x46DD794Eu);
  expect_both_paths(bytes(32, [](std::size_t i) { return static_cast<std::uint8_t>(31 - i); }), 0x113FDB5Cu);
  // An iSCSI read command PDU.
  const std::vector<std::uint8_t> pdu = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  expect_both_paths(pdu, 0xD9963A56u);
}

TEST(WalCrc32c, ExtendEqualsWholeAndPathsAgreeAtEveryAlignment) {
  std::mt19937_64 rng(brisk::test::test_seed());
  std::vector<std::uint8_t> data(4096);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (int round = 0; round < 200; ++round) {
    const std::size_t start = rng() % 64;
    const std::size_t n = rng() % (data.size() - start);
    const std::size_t split = n == 0 ? 0 : rng() % n;
    const std::uint8_t* p = data.data() + start;
    const std::uint32_t whole = crc32c::value(p, n);
    EXPECT_EQ(crc32c::extend(crc32c::value(p, split), p + split, n - split), whole);
    EXPECT_EQ(crc32c::extend_table(0, p, n), whole);
  }
}

TEST(WalCrc32c, MaskRoundTripsAndChangesTheValue) {
  const std::uint32_t crc = crc32c::value(std::string_view("foo"));
  EXPECT_NE(crc32c::mask(crc), crc);
  EXPECT_NE(crc32c::mask(crc32c::mask(crc)), crc);
  EXPECT_EQ(crc32c::unmask(crc32c::mask(crc)), crc);
  EXPECT_EQ(crc32c::unmask(crc32c::unmask(crc32c::mask(crc32c::mask(crc)))), crc);
}

TEST(WalCrc32c, ReportsWhichPathRuns) {
  // Not an assertion about the machine, a record of it.
  std::printf("crc32c hardware path: %s\n", crc32c::hardware_accelerated() ? "sse4.2" : "table");
}
