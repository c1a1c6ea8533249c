#include "api/router.h"

#include "api/json_reply.h"

namespace raftlock::api {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> parse_query(const std::string& query) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < query.size()) {
    std::size_t j = query.find('&', i);
    if (j == std::string::npos) j = query.size();
    std::string pair = query.substr(i, j - i);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      if (eq == std::string::npos) {
        out[url_decode(pair)] = "";
      } else {
        out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
      }
    }
    i = j + 1;
  }
  return out;
}

void Router::add(boost::beast::http::verb method, const std::string& pattern,
                 std::string route_name, Handler handler) {
  routes_.push_back(Route{method, split_path(pattern), std::move(route_name), std::move(handler)});
}

bool Router::match(const Route& r, const std::vector<std::string>& segs,
                   std::map<std::string, std::string>* params) {
  if (r.segments.size() != segs.size()) return false;
  std::map<std::string, std::string> caps;
  for (std::size_t k = 0; k < segs.size(); ++k) {
    const std::string& p = r.segments[k];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      caps[p.substr(1, p.size() - 2)] = segs[k];
    } else if (p != segs[k]) {
      return false;
    }
  }
  *params = std::move(caps);
  return true;
}

std::string Router::dispatch(RequestContext& ctx, Reply reply) const {
  const std::string target(ctx.req.target());
  const std::size_t q = target.find('?');
  ctx.path = target.substr(0, q);
  ctx.query = q == std::string::npos ? std::map<std::string, std::string>{}
                                     : parse_query(target.substr(q + 1));
  const std::vector<std::string> segs = split_path(ctx.path);
  bool path_matched = false;
  for (const Route& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match(r, segs, &params)) continue;
    path_matched = true;
    if (r.method != ctx.req.method()) continue;
    ctx.params = std::move(params);
    r.handler(ctx, std::move(reply));
    return r.name;
  }
  if (path_matched) {
    reply(error_response(
        405, "method_not_allowed",
        "method " + std::string(ctx.req.method_string()) + " not allowed on " + ctx.path,
        nlohmann::json::object(), ctx.req.version()));
  } else {
    reply(error_response(404, "not_found", "no route for " + ctx.path, nlohmann::json::object(),
                         ctx.req.version()));
  }
  return "unmatched";
}

}  // namespace raftlock::api
