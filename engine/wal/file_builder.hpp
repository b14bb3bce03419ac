// FileBuilder: a whole log file (header and sealed records) built in
// memory. Checkpoints are written with it in one go; tests use it to lay out
// exactly the bytes a failure needs.
#pragma once

#include <cstdint>
#include <string>

#include "wal/log_format.hpp"
#include "wal/records.hpp"

namespace brisk::detail::wal {

class FileBuilder {
 public:
  FileBuilder(FileKind kind, std::uint32_t number, std::uint64_t first_sequence)
      : bytes_(encode_file_header({kind, number, first_sequence})) {}

  // Appends a record; returns its offset in the file.
  template <class Record>
  std::size_t add(std::uint64_t sequence, const Record& record) {
    const std::size_t start = begin_record(bytes_, type_of(record), sequence);
    encode(bytes_, record);
    seal_record(bytes_, start);
    return start;
  }

  const std::string& bytes() const noexcept { return bytes_; }
  std::string& bytes() noexcept { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace brisk::detail::wal
