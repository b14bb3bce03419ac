// Checks an "Authorization: Bearer <token>" header against the configured
// token in time that does not depend on where they differ, so that a
// client cannot learn the token a byte at a time from response times.
#pragma once

#include <cstddef>
#include <string_view>

namespace brisk::http {

// True when `header` is exactly "Bearer " + token. Runs over every byte of
// the expected value whatever the header holds (its length included).
inline bool bearer_matches(std::string_view header, std::string_view token) noexcept {
  constexpr std::string_view kScheme = "Bearer ";
  const std::size_t expected = kScheme.size() + token.size();
  unsigned char diff = header.size() == expected ? 0 : 1;
  for (std::size_t i = 0; i < expected; ++i) {
    const char want = i < kScheme.size() ? kScheme[i] : token[i - kScheme.size()];
    const char got = i < header.size() ? header[i] : '\0';
    diff |= static_cast<unsigned char>(want ^ got);
  }
  // Read through a volatile so the compiler cannot stop the loop early.
  const volatile unsigned char result = diff;
  return result == 0;
}

}  // namespace brisk::http
