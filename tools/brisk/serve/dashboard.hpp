// The page GET /ui serves (docs/service.md, "Dashboard").
#pragma once

#include <string_view>

namespace brisk::serve {

std::string_view dashboard_html() noexcept;

}  // namespace brisk::serve
