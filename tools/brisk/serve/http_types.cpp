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

// "/v1/tasks/42" -> {"v1", "tasks", "42"}; nullopt for an empty segment
// ("/v1/tasks/", "//"), which no route has.
std::optional<std::vector<std::string>> path_segments(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::size_t at = 1;
  while (at <= path.size()) {
    const std::size_t end = std::min(path.find('/', at), path.size());
    if (end == at) return std::nullopt;
    out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

}  // namespace brisk::serve
