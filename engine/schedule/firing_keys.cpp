#include "schedule/firing_keys.hpp"

#include <limits>

namespace brisk::schedule {

std::string firing_key(std::string_view name, std::int64_t slot) {
  return std::string(kFiringPrefix) + std::string(name) + "/" + std::to_string(slot);
}

std::string wake_key(std::string_view name, std::int64_t slot) {
  return std::string(kWakePrefix) + std::string(name) + "/" + std::to_string(slot);
}

bool split_name_slot(std::string_view rest, std::string_view* name, std::int64_t* slot) {
  const std::size_t cut = rest.rfind('/');
  if (cut == std::string_view::npos || cut == 0 || cut + 1 == rest.size()) return false;
  std::int64_t v = 0;
  bool negative = false;
  std::size_t i = cut + 1;
  if (rest[i] == '-') {
    negative = true;
    ++i;
  }
  if (i == rest.size()) return false;
  for (; i < rest.size(); ++i) {
    if (rest[i] < '0' || rest[i] > '9') return false;
    if (v > (std::numeric_limits<std::int64_t>::max() - (rest[i] - '0')) / 10) return false;
    v = v * 10 + (rest[i] - '0');
  }
  *name = rest.substr(0, cut);
  *slot = negative ? -v : v;
  return true;
}

}  // namespace brisk::schedule
