// The target adapter interface: how a scenario drives one lock service.
//
// A LockTarget knows a service's endpoints and makes LockClients; a LockClient
// is one worker's identity (an etcd lease or a raftlock session) on one
// keep-alive connection. Adapters: etcd_target.cc (etcd 3.4's v3 JSON
// gateway) and raftlock_target.cc (raftlock's API v1, /work/shared/API.md).
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "http_connection.h"
#include "options.h"

namespace raftlock::bench {

// A service answered, but not with success (HTTP status or error body).
struct TargetError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What acquire returns and release needs.
struct LockHandle {
  std::string name;                            // the lock name as the service spells it
  std::string key;                             // etcd: the base64 lock key to delete
  std::optional<std::uint64_t> fencing_token;  // raftlock: the grant's fencing token
};

class LockClient {
 public:
  explicit LockClient(std::shared_ptr<HttpConnection> conn) : conn_(std::move(conn)) {}
  virtual ~LockClient() = default;

  // Creates this client's lease/session. Throws TargetError or a transport error.
  virtual boost::asio::awaitable<void> setup() = 0;
  // Returns once the lock is held (blocking as long as the service makes it wait).
  virtual boost::asio::awaitable<LockHandle> acquire(const std::string& lock) = 0;
  virtual boost::asio::awaitable<void> release(const LockHandle& handle) = 0;
  // Ends the lease/session (releasing what it holds); best effort, never throws.
  virtual boost::asio::awaitable<void> teardown() = 0;

  void reset_connection() { conn_->close(); }

 protected:
  std::shared_ptr<HttpConnection> conn_;
};

class LockTarget {
 public:
  LockTarget(boost::asio::any_io_executor ex, const Options& opts)
      : ex_(std::move(ex)), endpoints_(opts.endpoints), opts_(opts) {}
  virtual ~LockTarget() = default;

  virtual std::string_view name() const = 0;
  // A client on an existing connection (several clients may share one if they
  // take turns, as the memory scenario's sessions do).
  virtual std::unique_ptr<LockClient> client_on(std::shared_ptr<HttpConnection> conn) = 0;
  // Versions, roles etc. of every endpoint, for the report.
  virtual boost::asio::awaitable<nlohmann::json> describe() = 0;
  // Refreshes every lease/session in live_ once.
  virtual boost::asio::awaitable<void> keepalive_all() = 0;
  // The service's spelling of a bench lock path like "lockbench/ab12/w3".
  virtual std::string lock_name(std::string_view path) const { return std::string(path); }

  // A client on its own new connection to endpoint `endpoint_idx`.
  std::unique_ptr<LockClient> client(std::size_t endpoint_idx) {
    return client_on(std::make_shared<HttpConnection>(ex_, endpoints_.at(endpoint_idx)));
  }
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  const boost::asio::any_io_executor& executor() const { return ex_; }
  std::chrono::milliseconds keepalive_interval() const;

  // Leases/sessions that keepalive_all refreshes; clients add and remove theirs.
  std::set<std::string> live_;
  // raftlock: acquires answered 409 lock_held (the wait ended) and retried.
  std::uint64_t acquire_retries_ = 0;

 protected:
  boost::asio::any_io_executor ex_;
  std::vector<Endpoint> endpoints_;
  const Options& opts_;
};

std::unique_ptr<LockTarget> make_etcd_target(boost::asio::any_io_executor ex, const Options& o);
std::unique_ptr<LockTarget> make_raftlock_target(boost::asio::any_io_executor ex, const Options& o);
std::unique_ptr<LockTarget> make_target(boost::asio::any_io_executor ex, const Options& o);

// Calls target.keepalive_all() every keepalive_interval() until *stop is set
// (checked every 100 ms).
boost::asio::awaitable<void> run_keepalives(LockTarget& target, const bool* stop);

// Parses a JSON response body; TargetError (naming `what`) if it is not JSON.
nlohmann::json parse_body(const HttpResponse& res, std::string_view what);

// A raftlock grant's fencing token, read straight from the body the server
// writes when it is the first key ({"fencing_token":N,...}: keys come
// sorted); a body of any other shape is parsed as JSON (TargetError if it has
// no unsigned fencing_token).
std::uint64_t fencing_token_of(const HttpResponse& res, std::string_view what);

// "what -> HTTP 409: <body, at most 300 bytes>"
TargetError http_error(std::string_view what, const HttpResponse& res);

}  // namespace raftlock::bench
