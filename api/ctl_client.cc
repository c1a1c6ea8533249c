#include "api/ctl_client.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdlib>

#include "api/http_client.h"

namespace raftlock::api {

namespace http = boost::beast::http;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kRoundBackoff{100};  // after every endpoint failed once
constexpr milliseconds kMinAttempt{50};

}  // namespace

Result<std::vector<std::string>> parse_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string ep = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (ep.empty()) continue;
    if (ep.rfind("http://", 0) == 0) {
      ep = ep.substr(7);
    } else if (ep.find("://") != std::string::npos) {
      return Status(ErrorCode::kInvalidArgument, "only http:// endpoints are supported: " + ep);
    }
    if (!ep.empty() && ep.back() == '/') ep.pop_back();
    const std::size_t colon = ep.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == ep.size() ||
        ep.find('/') != std::string::npos ||
        ep.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      return Status(ErrorCode::kInvalidArgument, "endpoint is not http://host:port: " + ep);
    }
    out.push_back(ep);
  }
  if (out.empty()) return Status(ErrorCode::kInvalidArgument, "no endpoint given");
  return out;
}

Result<std::vector<std::string>> resolve_endpoints(const std::string& flag) {
  if (!flag.empty()) return parse_endpoints(flag);
  const char* env = std::getenv("RAFTLOCK_ENDPOINTS");
  if (env != nullptr && *env != '\0') return parse_endpoints(env);
  return parse_endpoints("http://127.0.0.1:8080");
}

std::string CtlReply::error_code() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("code") && body["error"]["code"].is_string()) {
    return body["error"]["code"].get<std::string>();
  }
  return "";
}

std::string CtlReply::error_message() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("message") && body["error"]["message"].is_string()) {
    return body["error"]["message"].get<std::string>();
  }
  return "HTTP " + std::to_string(status);
}

CtlRequest ctl_request(std::string method, std::string target, std::optional<json> body,
                       milliseconds total) {
  CtlRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.deadline = CtlClock::now() + total;
  return r;
}

struct CtlClient::Attempt {
  CtlRequest req;
  CtlHandler done;
  std::size_t index = 0;  // endpoint to try next
  std::size_t tried = 0;  // attempts so far
  std::string last_error;
  std::optional<CtlReply> last_reply;  // a 503/504 answer, handed over at the deadline
  std::unique_ptr<boost::asio::steady_timer> timer;
};

CtlClient::CtlClient(boost::asio::io_context& io, std::vector<std::string> endpoints)
    : io_(io), endpoints_(std::move(endpoints)) {}

void CtlClient::call(CtlRequest req, CtlHandler done) {
  auto a = std::make_shared<Attempt>();
  a->req = std::move(req);
  a->done = std::move(done);
  a->index = current_ % endpoints_.size();
  attempt(std::move(a));
}

Result<CtlReply> CtlClient::call_sync(CtlRequest req) {
  std::optional<Result<CtlReply>> out;
  call(std::move(req), [&out](Result<CtlReply> r) { out = std::move(r); });
  io_.restart();
  while (!out && io_.run_one() > 0) {
  }
  if (!out) return Status(ErrorCode::kUnavailable, "the request was abandoned");
  return std::move(*out);
}

void CtlClient::attempt(std::shared_ptr<Attempt> a) {
  const auto now = CtlClock::now();
  if (now >= a->req.deadline && a->tried > 0) {
    if (a->last_reply) return a->done(std::move(*a->last_reply));
    return a->done(Status(ErrorCode::kUnavailable, "no endpoint answered (" +
                                                       std::to_string(endpoints_.size()) +
                                                       " tried); last error: " + a->last_error));
  }
  const std::size_t idx = a->index;
  const std::string endpoint = endpoints_[idx];
  auto left = std::chrono::duration_cast<milliseconds>(a->req.deadline - now);
  const milliseconds timeout = std::max(kMinAttempt, std::min(a->req.attempt_timeout, left));

  Request r;
  r.method(http::string_to_verb(a->req.method));
  r.target(a->req.target);
  r.version(11);
  r.set(http::field::user_agent, "raftlockctl");
  if (a->req.body) {
    r.set(http::field::content_type, "application/json");
    r.body() = a->req.body->dump();
  }
  async_http_request(
      io_, endpoint, std::move(r), timeout, [this, a, idx, endpoint](Result<Response> res) {
        a->tried++;
        if (res) {
          CtlReply reply;
          reply.status = static_cast<int>(res->result_int());
          reply.body = json::parse(res->body(), nullptr, /*allow_exceptions=*/false);
          if (reply.body.is_discarded()) reply.body = nullptr;
          reply.endpoint = endpoint;
          reply.retry_after = res->find(boost::beast::http::field::retry_after) != res->end();
          const bool retry = reply.status == 503 || (reply.status == 504 && a->req.retry_timeout);
          if (!retry) {
            current_ = idx;
            return a->done(std::move(reply));
          }
          a->last_error = endpoint + ": " + std::to_string(reply.status) + " " + reply.error_code();
          a->last_reply = std::move(reply);
        } else {
          a->last_error = endpoint + ": " + res.status().message();
          a->last_reply.reset();
        }
        const std::size_t n = endpoints_.size();
        if (current_ == idx) current_ = (idx + 1) % n;
        a->index = (idx + 1) % n;
        if (a->tried % n != 0) return attempt(a);
        // Every endpoint failed once in this round: pause before the next.
        auto wait = std::min<CtlClock::duration>(
            kRoundBackoff, std::max<CtlClock::duration>(a->req.deadline - CtlClock::now(),
                                                        CtlClock::duration::zero()));
        a->timer = std::make_unique<boost::asio::steady_timer>(io_, wait);
        a->timer->async_wait([this, a](const boost::system::error_code&) { attempt(a); });
      });
}

}  // namespace raftlock::api
