// A task handler from any callable taking TaskContext&: one returning
// Outcome is used as it is; one returning void succeeds unless it throws.
#pragma once

#include <type_traits>
#include <utility>

#include "brisk/task.hpp"

namespace brisk::detail {

template <class F>
Handler as_handler(F&& handler) {
  if constexpr (std::is_same_v<std::invoke_result_t<F&, TaskContext&>, void>) {
    return [h = std::forward<F>(handler)](TaskContext& ctx) mutable {
      h(ctx);
      return Outcome::success();
    };
  } else {
    return Handler(std::forward<F>(handler));
  }
}

}  // namespace brisk::detail
