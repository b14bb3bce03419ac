#include "machine.hpp"

#include <sys/utsname.h>

#include <ctime>
#include <fstream>
#include <thread>

namespace peers {

Meta describe_machine() {
  Meta m;
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  m.date = date;
  utsname u{};
  uname(&u);
  m.host = u.nodename;
  m.kernel = std::string(u.sysname) + " " + u.release;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  m.cpus = std::thread::hardware_concurrency();
  m.compiler = "g++ " __VERSION__;
  m.flags = BRISK_PEERS_FLAGS;
  return m;
}

}  // namespace peers
