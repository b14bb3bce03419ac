#include "trace/chrome_trace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>
#include <set>
#include <map>
#include <stdexcept>
#include <utility>

#include "brisk/submit.hpp"

namespace brisk::trace {
namespace {

// How each kind is written: its phase, name, and the args keys that carry
// TraceEvent::task_id and ::arg (empty: not written, read back as 0).
struct KindFormat {
  char phase;
  std::string_view name;
  std::string_view id_key;
  std::string_view arg_key;
};
constexpr KindFormat kFormats[] = {
    {'i', "submit", "task", "arg"},           {'B', "task", "task", "arg"},
    {'E', "task", "task", "arg"},             {'i', "steal", "task", "arg"},
    {'i', "retry", "task", "arg"},            {'i', "park", "task", "arg"},
    {'i', "unpark", "task", "arg"},           {'i', "refused", "submissions", "code"},
    {'B', "log batch", "bytes", "records"},   {'B', "fdatasync", "synced_lsn", ""},
    {'E', "log end", "", ""},
};
static_assert(std::size(kFormats) == static_cast<std::size_t>(TraceKind::kLogEnd) + 1);

const KindFormat& format_of(TraceKind k) { return kFormats[static_cast<std::size_t>(k)]; }

// The kind written with this phase and name. A "B" or "E" of another name
// is a task's (what traces before the log writer's track held).
const KindFormat* find_format(char phase, std::string_view name) {
  for (const KindFormat& f : kFormats) {
    if (f.phase == phase && f.name == name) return &f;
  }
  if (phase == 'B' || phase == 'E') return &format_of(phase == 'B' ? TraceKind::kStart : TraceKind::kEnd);
  return nullptr;
}

TraceKind kind_of(const KindFormat& f) { return static_cast<TraceKind>(&f - kFormats); }


void write_json_string(std::ostream& out, std::string_view s) {
  out << '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out << '\\' << c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out << buf;
    } else {
      out << c;
    }
  }
  out << '"';
}

// Microseconds with the nanoseconds as exactly three decimals.
void write_ts(std::ostream& out, std::uint64_t rel_ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(rel_ns / 1000),
                static_cast<unsigned long long>(rel_ns % 1000));
  out << buf;
}

}  // namespace

// The SubmitStatus's name (brisk::to_string lives in the engine library; the
// trace reader's fuzz target is built without it).
std::string_view refusal_reason(std::uint32_t code) {
  static_assert(static_cast<int>(SubmitStatus::durability_failed) == 6, "a SubmitStatus was added: name it here");
  constexpr std::string_view kNames[] = {"accepted", "rejected_full", "rejected_backpressure", "rejected_shutdown",
                                         "invalid",  "duplicate",     "durability_failed"};
  return code < std::size(kNames) ? kNames[code] : std::string_view("unknown");
}

namespace {

std::string track_name(std::uint16_t worker, const ChromeTraceOptions& options) {
  if (worker == kLogWriter) return "log writer";
  if (worker != kExternalWorker) return "worker " + std::to_string(worker);
  if (options.refusals_dropped == 0) return "producers";
  return "producers (" + std::to_string(options.refusals_dropped) + " refusals not recorded: ring full)";
}

void write_event(std::ostream& out, const TraceEvent& e, std::uint64_t origin) {
  const KindFormat& f = format_of(e.kind);
  out << ",\n{\"ph\":\"" << f.phase << '"';
  if (f.phase == 'i') out << ",\"s\":\"t\"";
  out << ",\"pid\":1,\"tid\":" << e.worker << ",\"ts\":";
  write_ts(out, e.ts_ns - origin);
  out << ",\"cat\":\"brisk\",\"name\":";
  write_json_string(out, f.name);
  out << ",\"args\":{";
  const char* sep = "";
  if (e.kind == TraceKind::kRefused) {
    out << "\"reason\":";
    write_json_string(out, refusal_reason(e.arg));
    sep = ",";
  }
  if (!f.id_key.empty()) {
    out << sep << '"' << f.id_key << "\":" << e.task_id;
    sep = ",";
  }
  if (!f.arg_key.empty()) out << sep << '"' << f.arg_key << "\":" << e.arg;
  out << "}}";
}

}  // namespace

std::vector<TraceEvent> with_derived_submits(std::span<const TraceEvent> events) {
  std::vector<TraceEvent> all;
  all.reserve(events.size() * 2);
  for (const TraceEvent& e : events) {
    // Just before its start: with a zero wait, a stable sort by time keeps
    // the submit first.
    if (e.kind == TraceKind::kStart) {
      all.push_back(TraceEvent{e.ts_ns >= e.arg ? e.ts_ns - e.arg : 0, e.task_id, 0, e.worker, TraceKind::kSubmit});
    }
    all.push_back(e);
  }
  return all;
}

void write_chrome_trace(std::ostream& out, std::span<const TraceEvent> events, const ChromeTraceOptions& options) {
  std::vector<TraceEvent> sorted = with_derived_submits(events);
  // Stable: equal timestamps keep each worker's recording order (B before E).
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.ts_ns < b.ts_ns; });
  const std::uint64_t origin = sorted.empty() ? 0 : sorted.front().ts_ns;

  out << "{\"traceEvents\":[\n";
  out << R"({"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":)";
  write_json_string(out, options.process_name);
  out << "}}";
  std::set<std::uint16_t> workers;
  for (const TraceEvent& e : sorted) workers.insert(e.worker);
  if (options.refusals_dropped != 0) workers.insert(kExternalWorker);  // says so even with none recorded
  for (const std::uint16_t w : workers) {
    out << ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":" << w << R"(,"name":"thread_name","args":{"name":)";
    write_json_string(out, track_name(w, options));
    out << "}},\n{\"ph\":\"M\",\"pid\":1,\"tid\":" << w
        << R"(,"name":"thread_sort_index","args":{"sort_index":)" << w << "}}";
  }
  // Flow arrows from each derived submit to its start: a derived submit and
  // its start share worker and task (a recorded submit is on the producers'
  // track, where no start is), and the submit comes first in `sorted`.
  std::map<std::pair<std::uint16_t, std::uint64_t>, std::uint64_t> open_flows;  // (worker, task) -> flow id
  std::uint64_t next_flow = 0;
  auto flow_key = [](const TraceEvent& e) { return std::make_pair(e.worker, e.task_id); };
  auto write_flow = [&](char phase, const TraceEvent& e, std::uint64_t id) {
    out << ",\n{\"ph\":\"" << phase << '"' << (phase == 'f' ? ",\"bp\":\"e\"" : "") << ",\"id\":" << id
        << ",\"pid\":1,\"tid\":" << e.worker << ",\"ts\":";
    write_ts(out, e.ts_ns - origin);
    out << R"(,"cat":"brisk.flow","name":"queued","args":{"task":)" << e.task_id << "}}";
  };
  for (const TraceEvent& e : sorted) {
    write_event(out, e, origin);
    if (e.kind == TraceKind::kSubmit && e.worker != kExternalWorker) {
      open_flows[flow_key(e)] = ++next_flow;
      write_flow('s', e, next_flow);
    } else if (e.kind == TraceKind::kStart) {
      // "f" binding to the enclosing slice ("bp":"e"): the run span just begun.
      if (const auto it = open_flows.find(flow_key(e)); it != open_flows.end()) {
        write_flow('f', e, it->second);
        open_flows.erase(it);
      }
    }
  }
  out << "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"refusals_dropped\":" << options.refusals_dropped
      << ",\"log_writer_events_dropped\":" << options.log_writer_dropped << "}}\n";
}

namespace {

// A field that must be a whole number in [0, max]. nlohmann's get<T>() casts
// a float or an out-of-range integer with static_cast, which is undefined
// behaviour for a double beyond T (the fuzzer found one), so range is checked
// here on the JSON's own number type first.
template <class T>
T whole_number(const nlohmann::json& j, std::string_view what) {
  constexpr auto max = std::numeric_limits<T>::max();
  if (j.is_number_unsigned() && j.get<std::uint64_t>() <= max) return static_cast<T>(j.get<std::uint64_t>());
  if (j.is_number_integer() && j.get<std::int64_t>() >= 0 &&
      static_cast<std::uint64_t>(j.get<std::int64_t>()) <= max) {
    return static_cast<T>(j.get<std::int64_t>());
  }
  throw std::runtime_error(std::string(what) + " is not a whole number in [0, " + std::to_string(max) + "]");
}

// "ts" is in microseconds, possibly fractional; the event keeps nanoseconds.
std::uint64_t timestamp_ns(const nlohmann::json& j) {
  // 1.8e13 us is about 208 days past the trace's origin, far more than any
  // trace holds and small enough that ts * 1000 fits a uint64 exactly enough.
  constexpr double kMaxTsMicros = 1.8e13;
  if (!j.is_number()) throw std::runtime_error("event without a numeric ts");
  const double ts = j.get<double>();
  if (!(ts >= 0.0 && ts <= kMaxTsMicros)) throw std::runtime_error("event ts out of range: " + j.dump());
  return static_cast<std::uint64_t>(std::llround(ts * 1000.0));
}

std::vector<TraceEvent> read_events(std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
    throw std::runtime_error("not a Chrome trace: no traceEvents array");
  }
  std::vector<TraceEvent> events;
  for (const nlohmann::json& j : doc["traceEvents"]) {
    const std::string ph = j.value("ph", "");
    if (ph == "M" || ph == "s" || ph == "f") continue;  // metadata, and the flow arrows derived from starts
    if (ph != "B" && ph != "E" && ph != "i") throw std::runtime_error("unexpected event phase: " + ph);
    const std::string name = j.value("name", "");
    if (ph == "i" && name == "submit") continue;  // derived from its B event's wait
    const KindFormat* f = find_format(ph[0], name);
    if (f == nullptr) throw std::runtime_error("unknown instant event: " + name);
    if (!j.contains("ts") || !j.contains("tid")) throw std::runtime_error("event without ts and tid");
    const nlohmann::json args = j.value("args", nlohmann::json::object());
    if (!args.is_object()) throw std::runtime_error("event args is not an object");
    auto field = [&]<class T>(std::string_view key, T) {
      if (key.empty() || !args.contains(key)) return T{0};
      return whole_number<T>(args[std::string(key)], key);
    };
    events.push_back(TraceEvent{timestamp_ns(j["ts"]), field(f->id_key, std::uint64_t{0}),
                                field(f->arg_key, std::uint32_t{0}), whole_number<std::uint16_t>(j["tid"], "tid"),
                                kind_of(*f)});
  }
  return events;
}

}  // namespace

std::vector<TraceEvent> read_chrome_trace(std::string_view json) {
  try {
    return read_events(json);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong JSON type
    throw std::runtime_error(std::string("malformed Chrome trace: ") + e.what());
  }
}

}  // namespace brisk::trace
