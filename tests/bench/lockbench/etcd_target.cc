// etcd 3.4 through its v3 JSON gateway (grpc-gateway): one lease per client,
// /v3/lock/lock with that lease blocks until the lock is held and answers the
// lock key; /v3/lock/unlock deletes the key. etcd's lock key is
// <name>/<lease-id-hex>, so two workers never share a lease on one lock name.
// int64 values travel as JSON strings, byte strings as base64.
#include "lock_target.h"

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <unordered_map>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace raftlock::bench {
namespace {

constexpr std::chrono::milliseconds kCallTimeout{10000};
// A contended lock call waits client-side for its turn: no practical limit.
constexpr std::chrono::milliseconds kLockTimeout{300000};

std::string base64(std::string_view s) {
  // Beast's encoder sits in a detail namespace but has been stable since 1.66.
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(s.size()), '\0');
  out.resize(b64::encode(out.data(), s.data(), s.size()));
  return out;
}

class EtcdTarget;

// POSTs body to path; throws TargetError unless HTTP 200 with a body that is
// not a gateway error object.
asio::awaitable<json> etcd_call(HttpConnection& conn, std::string_view path, std::string body,
                                std::chrono::milliseconds timeout) {
  HttpResponse res = co_await conn.request(http::verb::post, path, std::move(body), timeout);
  if (res.status != 200) throw http_error(path, res);
  json d = parse_body(res, path);
  if (d.contains("error") || (d.contains("code") && d.contains("message")))
    throw http_error(path, res);
  co_return d;
}

class EtcdClient final : public LockClient {
 public:
  EtcdClient(LockTarget& target, std::shared_ptr<HttpConnection> conn, int ttl_s)
      : LockClient(std::move(conn)), target_(target), ttl_s_(ttl_s) {}

  asio::awaitable<void> setup() override {
    // (bodies are built outside co_await expressions: GCC 12 miscompiles
    // braced lists holding string literals there)
    std::string body = json{{"TTL", ttl_s_}}.dump();
    json d = co_await etcd_call(*conn_, "/v3/lease/grant", std::move(body), kCallTimeout);
    lease_ = d.at("ID").get<std::string>();
    target_.live_.insert(lease_);
  }

  asio::awaitable<LockHandle> acquire(const std::string& lock) override {
    auto it = bodies_.find(lock);
    std::string body =
        it != bodies_.end() ? it->second : json{{"name", base64(lock)}, {"lease", lease_}}.dump();
    if (it == bodies_.end() && bodies_.size() < 4096) bodies_.emplace(lock, body);
    json d = co_await etcd_call(*conn_, "/v3/lock/lock", std::move(body), kLockTimeout);
    co_return LockHandle{.name = lock, .key = d.at("key").get<std::string>()};
  }

  asio::awaitable<void> release(const LockHandle& h) override {
    std::string body = json{{"key", h.key}}.dump();
    co_await etcd_call(*conn_, "/v3/lock/unlock", std::move(body), kCallTimeout);
  }

  asio::awaitable<void> teardown() override {
    if (lease_.empty()) co_return;
    try {
      // Revoking the lease also deletes any lock key still attached to it.
      std::string body = json{{"ID", lease_}}.dump();
      co_await etcd_call(*conn_, "/v3/lease/revoke", std::move(body), kCallTimeout);
    } catch (const std::exception&) {
    }
    target_.live_.erase(lease_);
    conn_->close();
  }

 private:
  LockTarget& target_;
  int ttl_s_;
  std::string lease_;  // int64 as the gateway writes it: a decimal string
  std::unordered_map<std::string, std::string> bodies_;
};

class EtcdTarget final : public LockTarget {
 public:
  using LockTarget::LockTarget;

  std::string_view name() const override { return "etcd"; }

  std::unique_ptr<LockClient> client_on(std::shared_ptr<HttpConnection> conn) override {
    return std::make_unique<EtcdClient>(*this, std::move(conn), opts_.lease_ttl_s);
  }

  asio::awaitable<json> describe() override {
    json members = json::array();
    for (const Endpoint& e : endpoints_) {
      HttpConnection c(ex_, e);
      json m = {{"endpoint", e.text()}};
      try {
        json s =
            co_await etcd_call(c, "/v3/maintenance/status", "{}", std::chrono::milliseconds(1000));
        const json& h = s.at("header");
        m["version"] = s.value("version", "");
        m["member_id"] = h.value("member_id", "");
        m["is_leader"] = s.value("leader", "") == h.value("member_id", "");
        m["raft_term"] = std::stoull(h.value("raft_term", "0"));
        m["db_size"] = std::stoull(s.value("dbSize", "0"));
      } catch (const std::exception&) {
        m["up"] = false;
      }
      c.close();
      members.push_back(std::move(m));
    }
    co_return json{{"members", std::move(members)}};
  }

  asio::awaitable<void> keepalive_all() override {
    const std::set<std::string> leases = live_;
    for (const std::string& lease : leases) {
      for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        if (!ka_conns_[i]) ka_conns_[i] = std::make_shared<HttpConnection>(ex_, endpoints_[i]);
        try {
          // A bidirectional stream through the gateway: one request, a chunked
          // answer per message, then the end of the stream.
          std::string body = json{{"ID", lease}}.dump();
          HttpResponse r =
              co_await ka_conns_[i]->request(http::verb::post, "/v3/lease/keepalive",
                                             std::move(body), std::chrono::milliseconds(2000));
          if (r.status == 200) break;
        } catch (const std::exception&) {
          ka_conns_[i].reset();
        }
      }
    }
  }

 private:
  std::unordered_map<std::size_t, std::shared_ptr<HttpConnection>> ka_conns_;
};

}  // namespace

std::unique_ptr<LockTarget> make_etcd_target(asio::any_io_executor ex, const Options& o) {
  return std::make_unique<EtcdTarget>(std::move(ex), o);
}

}  // namespace raftlock::bench
