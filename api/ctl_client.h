// The raftlockctl client: JSON requests to a raftlock cluster with endpoint
// failover. Any node answers any request (API.md), so a call that finds its
// node down, silent, or without a leader (503) is sent to the next endpoint,
// round after round, until it is answered or its deadline passes. The last
// endpoint that answered is tried first by the next call, so a client keeps
// talking to one node until that node fails.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "raft/result.h"

namespace raftlock::api {

using CtlClock = std::chrono::steady_clock;

// "http://host:port,host:port" -> {"host:port", ...}. A missing scheme means
// http; https and paths are refused (kInvalidArgument).
Result<std::vector<std::string>> parse_endpoints(const std::string& list);

// The endpoint list raftlockctl uses: `flag` if not empty, else the
// RAFTLOCK_ENDPOINTS environment variable, else http://127.0.0.1:8080.
Result<std::vector<std::string>> resolve_endpoints(const std::string& flag);

struct CtlRequest {
  std::string method = "GET";  // GET, POST or DELETE
  std::string target;          // path and query, e.g. "/v1/locks/a/acquire"
  std::optional<nlohmann::json> body;
  std::chrono::milliseconds attempt_timeout{5000};  // per endpoint tried
  CtlClock::time_point deadline;                    // give up after this
  bool retry_timeout = false;  // also retry 504 (only for requests safe to repeat)
};

struct CtlReply {
  int status = 0;
  nlohmann::json body;  // null when the answer was not JSON
  std::string endpoint;
  bool retry_after = false;  // the answer carried Retry-After: the same request may succeed later

  // The API's error code ("lock_held", ...), or "" when there is none.
  std::string error_code() const;
  std::string error_message() const;
};

using CtlHandler = std::function<void(Result<CtlReply>)>;

class CtlClient {
 public:
  // REQUIRES: endpoints not empty; `io` outlives the client.
  CtlClient(boost::asio::io_context& io, std::vector<std::string> endpoints);

  // Sends `req`, failing over as described above. `done` gets the first
  // answer that is not 503 (nor 504 with retry_timeout), or kUnavailable /
  // kTimeout once the deadline passed. Called exactly once, from the io.
  void call(CtlRequest req, CtlHandler done);

  // Runs `call` to completion on the io (which must not be running).
  Result<CtlReply> call_sync(CtlRequest req);

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  boost::asio::io_context& io() { return io_; }

 private:
  struct Attempt;
  void attempt(std::shared_ptr<Attempt> a);

  boost::asio::io_context& io_;
  std::vector<std::string> endpoints_;
  std::size_t current_ = 0;  // the endpoint tried first
};

// A request builder for the common case.
CtlRequest ctl_request(std::string method, std::string target,
                       std::optional<nlohmann::json> body = std::nullopt,
                       std::chrono::milliseconds total = std::chrono::milliseconds(10000));

}  // namespace raftlock::api
