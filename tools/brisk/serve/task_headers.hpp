// A submission's options from its request headers (docs/service.md):
// Idempotency-Key, Delay-Ms or Run-At, Priority.
#pragma once

#include <optional>

#include <brisk/task.hpp>

#include "brisk/serve/http_types.hpp"

namespace brisk::serve {

// Fills `o` from the headers; a 400 naming the header when one is invalid.
// priority_lanes: the engine's, for a numeric Priority.
std::optional<HttpResponse> task_options_from_headers(const HttpRequest& req, unsigned priority_lanes, TaskOptions& o);

}  // namespace brisk::serve
