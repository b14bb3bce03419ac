// A spin-wait hint: PAUSE on x86 (saves power, frees the sibling
// hyperthread, avoids the memory-order mis-speculation exit penalty).
#pragma once

namespace brisk::detail {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}
}  // namespace brisk::detail
