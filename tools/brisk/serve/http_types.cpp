#include "brisk/serve/http_types.hpp"

#include <algorithm>
#include <cctype>

namespace brisk::serve {
namespace {

bool iequal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return &v;
  }
  return nullptr;
}

const std::string* HttpRequest::param(std::string_view name) const noexcept {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace brisk::serve
