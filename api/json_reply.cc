#include "api/json_reply.h"

#include <boost/beast/http/field.hpp>

namespace raftlock::api {

Response json_response(unsigned status, const nlohmann::json& body, unsigned version) {
  Response res{static_cast<boost::beast::http::status>(status), version};
  res.set(boost::beast::http::field::content_type, "application/json");
  res.body() = body.dump() + "\n";
  res.prepare_payload();
  return res;
}

Response error_response(unsigned status, const std::string& code, const std::string& message,
                        const nlohmann::json& extra, unsigned version) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  for (auto it = extra.begin(); it != extra.end(); ++it)
    err[it.key()] = it.value();
  return json_response(status, nlohmann::json{{"error", err}}, version);
}

}  // namespace raftlock::api
