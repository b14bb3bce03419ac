// A whole header or query value as a number: all of it, or nothing.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace brisk::serve {

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  if (s.empty()) return {};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return {};
  return v;
}

}  // namespace brisk::serve
