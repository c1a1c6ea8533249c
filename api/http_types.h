// The request/response types the HTTP layer hands to route handlers.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace raftlock::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// Called exactly once with the answer. May be called later, from the server's
// executor (long polls, waits for a commit).
using Reply = std::function<void(Response)>;

// Set when the client connection that made a request has gone away, so long
// waits can give up: `gone` turns true and `on_gone` (if a handler set one)
// is called once.
// Set when the client of a request hangs up before its answer. Watching the
// connection costs a reactor operation per request, so the server starts it
// only when a handler asks to hear of the hang-up (when_gone).
struct ClientGone {
  bool gone = false;
  std::function<void()> on_gone;
  std::function<void()> arm;  // set by the server: starts the watch
  void when_gone(std::function<void()> f) {
    on_gone = std::move(f);
    if (arm) {
      auto a = std::move(arm);
      arm = nullptr;
      a();
    }
  }
  void fire() {
    if (gone) return;
    gone = true;
    if (on_gone) {
      auto f = std::move(on_gone);
      on_gone = nullptr;
      f();
    }
  }
};
using GoneFlag = std::shared_ptr<ClientGone>;

struct RequestContext {
  const Request& req;
  std::string path;                           // without the query string
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> params;  // {name} captures of the route
  GoneFlag client_gone;
};

using Handler = std::function<void(RequestContext&, Reply)>;

}  // namespace raftlock::api
