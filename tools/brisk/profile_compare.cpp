#include "brisk/profile_compare.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace brisk::tools {
namespace {

using Json = nlohmann::json;

Json read_report(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (!j.is_object() || !j.contains("measurements")) {
    throw std::runtime_error(path + " is not a brisk profile report (brisk profile --json)");
  }
  return j;
}

void row(const std::string& name, const Json& a, const Json& b) {
  const bool na = a.is_number(), nb = b.is_number();
  if (!na && !nb) return;
  const auto show = [](const Json& v) { return v.is_number() ? std::to_string(v.get<double>()) : std::string("-"); };
  std::printf("  %-28s %16s %16s", name.c_str(), show(a).c_str(), show(b).c_str());
  if (na && nb) {
    const double x = a.get<double>(), y = b.get<double>();
    std::printf(" %+16.4g", y - x);
    if (x != 0) std::printf(" %9.3fx", y / x);
  }
  std::printf("\n");
}

std::set<std::string> advised(const Json& report) {
  std::set<std::string> fields;
  for (const Json& a : report.value("advice", Json::array())) fields.insert(a.value("field", ""));
  return fields;
}

}  // namespace

int run_compare(const std::string& a_path, const std::string& b_path) {
  try {
    const Json a = read_report(a_path), b = read_report(b_path);
    std::printf("brisk profile --compare\n  A: %s (%s)\n  B: %s (%s)\n", a_path.c_str(), a.value("source", "").c_str(),
                b_path.c_str(), b.value("source", "").c_str());
    std::printf("\n  %-28s %16s %16s %16s %10s\n", "measurement", "A", "B", "B - A", "B / A");
    for (const auto& [key, value] : a["measurements"].items()) row(key, value, b["measurements"].value(key, Json()));
    for (const char* h : {"queue_wait_ns", "run_time_ns"}) {
      const Json ha = a.value(h, Json::object()), hb = b.value(h, Json::object());
      for (const auto& [key, value] : ha.items()) row(std::string(h) + "." + key, value, hb.value(key, Json()));
    }
    const std::set<std::string> before = advised(a), after = advised(b);
    std::printf("\n  advice\n");
    for (const std::string& f : before) std::printf("  %-28s %s\n", f.c_str(), after.count(f) ? "still advised" : "resolved");
    for (const std::string& f : after) {
      if (!before.count(f)) std::printf("  %-28s new in B\n", f.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk profile --compare: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace brisk::tools
