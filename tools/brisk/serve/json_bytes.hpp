// Bytes in the service's JSON answers (payloads, results): a JSON string
// holds UTF-8 only, so bytes that are not valid UTF-8 also go out as base64
// beside it ("payload" and "payload_base64").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace brisk::serve {

bool valid_utf8(std::string_view s);
// Standard base64 (RFC 4648 section 4), with padding.
std::string base64(std::string_view in);
// j[key] = the bytes (invalid UTF-8 replaced when dumped); when they are not
// valid UTF-8, also j[key + "_base64"] = their base64.
void put_bytes(nlohmann::json& j, const char* key, std::string_view bytes);

}  // namespace brisk::serve
