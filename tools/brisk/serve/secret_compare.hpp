// Bearer tokens are compared in constant time: how long a comparison takes
// depends on the configured secret's length only, never on where the first
// difference is, so a client cannot find a token byte by byte by timing.
#pragma once

#include <cstddef>
#include <string_view>

namespace brisk::serve {

// volatile: the compiler may not stop at the first difference.
inline bool constant_time_equal(std::string_view secret, std::string_view given) {
  volatile unsigned char diff = secret.size() == given.size() ? 0 : 1;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff = diff | (static_cast<unsigned char>(secret[i]) ^ g);
  }
  return diff == 0;
}

}  // namespace brisk::serve
