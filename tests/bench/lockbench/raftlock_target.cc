// raftlock's HTTP API v1 (/work/shared/API.md): one session per client;
// acquire blocks server-side for up to wait_ms, queued FIFO, and answers the
// grant's fencing token; 409 lock_held means the wait ended first (retried).
#include "lock_target.h"

#include <boost/asio/use_awaitable.hpp>
#include <unordered_map>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace raftlock::bench {
namespace {

constexpr std::chrono::milliseconds kCallTimeout{10000};

std::string error_code_of(const json& d) {
  if (!d.is_object() || !d.contains("error") || !d["error"].is_object()) return "";
  return d["error"].value("code", "");
}

class RaftlockClient final : public LockClient {
 public:
  RaftlockClient(LockTarget& target, std::shared_ptr<HttpConnection> conn, const Options& o)
      : LockClient(std::move(conn)), target_(target), opts_(o) {}

  asio::awaitable<void> setup() override {
    const json req = {{"ttl_ms", opts_.lease_ttl_s * 1000LL}, {"name", "lockbench"}};
    HttpResponse r =
        co_await conn_->request(http::verb::post, "/v1/sessions", req.dump(), kCallTimeout);
    if (r.status != 201 && r.status != 200) throw http_error("/v1/sessions", r);
    session_ = parse_body(r, "/v1/sessions").at("session").get<std::string>();
    release_prefix_ = "{\"session\":" + json(session_).dump();  // + token + "}" per release
    target_.live_.insert(session_);
  }

  asio::awaitable<LockHandle> acquire(const std::string& lock) override {
    auto it = paths_.find(lock);
    if (it == paths_.end()) {
      if (paths_.size() >= 4096) paths_.clear();
      it = paths_.emplace(lock, "/v1/locks/" + lock + "/acquire").first;
    }
    if (acquire_body_.empty())
      acquire_body_ = json{{"session", session_}, {"wait_ms", opts_.wait_ms}}.dump();
    const auto timeout = std::chrono::milliseconds(opts_.wait_ms) + kCallTimeout;
    for (;;) {
      HttpResponse r =
          co_await conn_->request(http::verb::post, it->second, acquire_body_, timeout);
      if (r.status == 200) {
        co_return LockHandle{.name = lock, .fencing_token = fencing_token_of(r, it->second)};
      }
      // The wait ended before a grant (long contention): queue again.
      if (r.status == 409 && opts_.wait_ms > 0 &&
          error_code_of(parse_body(r, it->second)) == "lock_held") {
        ++target_.acquire_retries_;
        continue;
      }
      throw http_error(it->second, r);
    }
  }

  asio::awaitable<void> release(const LockHandle& h) override {
    const std::string path = "/v1/locks/" + h.name + "/release";
    std::string req = release_prefix_;
    if (h.fencing_token) req += ",\"fencing_token\":" + std::to_string(*h.fencing_token);
    req += "}";
    HttpResponse r = co_await conn_->request(http::verb::post, path, std::move(req), kCallTimeout);
    if (r.status != 200) throw http_error(path, r);
  }

  asio::awaitable<void> teardown() override {
    if (session_.empty()) co_return;
    try {
      co_await conn_->request(http::verb::delete_, "/v1/sessions/" + session_, "", kCallTimeout);
    } catch (const std::exception&) {
    }
    target_.live_.erase(session_);
    conn_->close();
  }

 private:
  LockTarget& target_;
  const Options& opts_;
  std::string session_;
  std::string acquire_body_;
  std::string release_prefix_;
  std::unordered_map<std::string, std::string> paths_;
};

class RaftlockTarget final : public LockTarget {
 public:
  using LockTarget::LockTarget;

  std::string_view name() const override { return "raftlock"; }

  std::unique_ptr<LockClient> client_on(std::shared_ptr<HttpConnection> conn) override {
    return std::make_unique<RaftlockClient>(*this, std::move(conn), opts_);
  }

  // Lock names allow A-Z a-z 0-9 . _ - : ~ but no '/'.
  std::string lock_name(std::string_view path) const override {
    std::string s(path);
    for (char& c : s)
      if (c == '/') c = ':';
    return s;
  }

  asio::awaitable<json> describe() override {
    json members = json::array();
    for (const Endpoint& e : endpoints_) {
      HttpConnection c(ex_, e);
      json status = nullptr;
      try {
        HttpResponse r = co_await c.request(http::verb::get, "/v1/cluster/status", "",
                                            std::chrono::milliseconds(1000));
        if (r.status == 200) status = parse_body(r, "/v1/cluster/status");
      } catch (const std::exception&) {
      }
      c.close();
      members.push_back({{"endpoint", e.text()}, {"status", std::move(status)}});
    }
    co_return json{{"members", std::move(members)}};
  }

  asio::awaitable<void> keepalive_all() override {
    const std::set<std::string> sessions = live_;
    for (const std::string& s : sessions) {
      for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        if (!ka_conns_[i]) ka_conns_[i] = std::make_shared<HttpConnection>(ex_, endpoints_[i]);
        try {
          HttpResponse r =
              co_await ka_conns_[i]->request(http::verb::post, "/v1/sessions/" + s + "/keepalive",
                                             "{}", std::chrono::milliseconds(2000));
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

std::unique_ptr<LockTarget> make_raftlock_target(asio::any_io_executor ex, const Options& o) {
  return std::make_unique<RaftlockTarget>(std::move(ex), o);
}

}  // namespace raftlock::bench
