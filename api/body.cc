#include "api/body.h"

#include "api/json_reply.h"

namespace raftlock::api {

using nlohmann::json;

bool parse_body(const Request& req, json* out, ApiError* err) {
  const std::string& b = req.body();
  if (b.find_first_not_of(" \t\r\n") == std::string::npos) {
    *out = json::object();
    return true;
  }
  json j = json::parse(b, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *err = ApiError{400, "invalid_json", "request body is not valid JSON"};
    return false;
  }
  if (!j.is_object()) {
    *err = ApiError{400, "invalid_argument", "request body must be a JSON object"};
    return false;
  }
  *out = std::move(j);
  return true;
}

bool get_int(const json& body, const char* field, std::int64_t min, std::int64_t max,
             std::optional<std::int64_t> def, std::int64_t* out, ApiError* err) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (!def) {
      *err = ApiError{400, "invalid_argument", std::string("field '") + field + "' is required"};
      return false;
    }
    *out = *def;
    return true;
  }
  bool fits = false;
  std::int64_t v = 0;
  if (it->is_number_unsigned()) {
    const std::uint64_t u = it->get<std::uint64_t>();
    fits = u <= static_cast<std::uint64_t>(INT64_MAX);
    v = static_cast<std::int64_t>(u);
  } else if (it->is_number_integer()) {
    fits = true;
    v = it->get<std::int64_t>();
  }
  if (!fits || v < min || v > max) {
    *err = ApiError{400, "invalid_argument",
                    std::string("field '") + field + "' must be an integer in [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]"};
    return false;
  }
  *out = v;
  return true;
}

bool get_string(const json& body, const char* field, std::size_t max_bytes,
                std::optional<std::string> def, std::string* out, ApiError* err) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (!def) {
      *err = ApiError{400, "invalid_argument", std::string("field '") + field + "' is required"};
      return false;
    }
    *out = *def;
    return true;
  }
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max_bytes) {
    *err = ApiError{400, "invalid_argument",
                    std::string("field '") + field + "' must be a string of at most " +
                        std::to_string(max_bytes) + " bytes"};
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

Response error_response(const ApiError& e, unsigned version) {
  return error_response(e.status, e.code, e.message, json::object(), version);
}

}  // namespace raftlock::api
