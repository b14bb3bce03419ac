// new_array: allocates an array whose size comes from the configuration, so
// that a refusal is a std::bad_alloc wherever the program's allocator comes
// from. mimalloc (BRISK_MIMALLOC, or linked by the program) replaces
// operator new with C code that cannot throw: its throwing new calls abort()
// when the system refuses memory. Its nothrow new returns nullptr, as
// every allocator's does, and that is turned into the exception here.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace brisk::detail {

// n default-initialised elements (trivial types are left unwritten).
template <class T>
std::unique_ptr<T[]> new_array(std::size_t n) {
  T* elements = new (std::nothrow) T[n];
  if (elements == nullptr) throw std::bad_alloc();
  return std::unique_ptr<T[]>(elements);
}

}  // namespace brisk::detail
