// Building JSON responses and the error model of API.md:
// {"error": {"code": "snake_case_code", "message": "text", ...extra}}.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/http_types.h"

namespace raftlock::api {

Response json_response(unsigned status, const nlohmann::json& body, unsigned version = 11);
Response error_response(unsigned status, const std::string& code, const std::string& message,
                        const nlohmann::json& extra = nlohmann::json::object(),
                        unsigned version = 11);

}  // namespace raftlock::api
