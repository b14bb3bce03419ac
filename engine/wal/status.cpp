#include "wal/status.hpp"

#include <cstring>

namespace brisk::detail::wal {

Status Status::from_errno(const std::string& what, int err) {
  Status s(Code::io_error, what + ": " + std::strerror(err));
  s.errno_ = err;
  return s;
}

std::string Status::to_string() const {
  switch (code_) {
    case Code::ok: return "OK";
    case Code::io_error: return "IO error: " + message_;
    case Code::corruption: return "Corruption: " + message_;
    case Code::invalid: return "Invalid argument: " + message_;
    case Code::closed: return "Closed: " + message_;
  }
  return message_;
}

}  // namespace brisk::detail::wal
