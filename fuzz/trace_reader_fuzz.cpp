// libFuzzer target: the profiler's trace reader (read_chrome_trace) on
// arbitrary bytes. It must either return events or throw std::runtime_error,
// never crash; events it returns must survive a write/read round trip.
//
//   build/fuzz/fuzz/trace_reader_fuzz fuzz/corpus/trace_reader -max_total_time=60
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "trace/chrome_trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<brisk::trace::TraceEvent> events;
  try {
    events = brisk::trace::read_chrome_trace(text);
  } catch (const std::exception&) {
    return 0;  // refused clearly: fine
  }
  std::ostringstream out;
  brisk::trace::write_chrome_trace(out, events);
  const auto again = brisk::trace::read_chrome_trace(out.str());
  if (again.size() != events.size()) __builtin_trap();
  return 0;
}
