// Reading request bodies by API.md's rules: any Content-Type, an empty body
// is {}, malformed JSON is 400 invalid_json, JSON that is not an object is
// 400 invalid_argument, integer fields take JSON integers only, unknown
// fields are ignored. Errors name the field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/http_types.h"

namespace raftlock::api {

struct ApiError {
  unsigned status = 400;
  std::string code;
  std::string message;
};

// Parses the body; on failure returns false and fills `err`.
bool parse_body(const Request& req, nlohmann::json* out, ApiError* err);

// An integer field in [min, max]; `def` when absent (nullopt def = required).
bool get_int(const nlohmann::json& body, const char* field, std::int64_t min, std::int64_t max,
             std::optional<std::int64_t> def, std::int64_t* out, ApiError* err);
// A string field of at most max_bytes; `def` when absent (nullopt = required).
bool get_string(const nlohmann::json& body, const char* field, std::size_t max_bytes,
                std::optional<std::string> def, std::string* out, ApiError* err);

Response error_response(const ApiError& e, unsigned version);

}  // namespace raftlock::api
