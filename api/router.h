// Maps (method, path pattern) to handlers. Patterns are literal segments and
// {name} captures of one whole segment, matched as written (no decoding), so
// that a name containing '%' or '/' can be refused by the handler.
#pragma once

#include <string>
#include <vector>

#include "api/http_types.h"

namespace raftlock::api {

class Router {
 public:
  void add(boost::beast::http::verb method, const std::string& pattern, std::string route_name,
           Handler handler);

  // Fills ctx.path/query/params and calls the matching handler; answers
  // 404 not_found or 405 method_not_allowed itself. Returns the route's name
  // (for metrics), "unmatched" if none.
  std::string dispatch(RequestContext& ctx, Reply reply) const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;
    std::string name;
    Handler handler;
  };
  static bool match(const Route& r, const std::vector<std::string>& segs,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

// Splits "a=1&b=x%2Fy" into decoded pairs; malformed escapes are kept as written.
std::map<std::string, std::string> parse_query(const std::string& query);

}  // namespace raftlock::api
