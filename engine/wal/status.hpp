// Status: the outcome of a WAL operation, LevelDB-style. Success carries no
// allocation; an error carries its kind and a message that names the file,
// the offset or the errno, so that it can be shown to an operator as is.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace brisk::detail::wal {

class Status {
 public:
  enum class Code : std::uint8_t {
    ok,
    io_error,      // the file layer failed (ENOSPC, EIO, ...): the log is unusable
    corruption,    // the bytes on disk are not a valid log
    invalid,       // a caller's mistake (a record too large, a bad option)
    closed,        // the log was closed
  };

  Status() = default;
  static Status ok() { return Status(); }
  static Status io_error(std::string message) { return Status(Code::io_error, std::move(message)); }
  // An I/O error from a system call: "<what>: <strerror(err)>", errno kept.
  static Status from_errno(const std::string& what, int err);
  static Status corruption(std::string message) { return Status(Code::corruption, std::move(message)); }
  static Status invalid(std::string message) { return Status(Code::invalid, std::move(message)); }
  static Status closed(std::string message) { return Status(Code::closed, std::move(message)); }

  bool is_ok() const noexcept { return code_ == Code::ok; }
  explicit operator bool() const noexcept { return is_ok(); }
  Code code() const noexcept { return code_; }
  int error_number() const noexcept { return errno_; }  // 0 unless from_errno
  const std::string& message() const noexcept { return message_; }
  std::string to_string() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::ok;
  int errno_ = 0;
  std::string message_;
};

}  // namespace brisk::detail::wal
