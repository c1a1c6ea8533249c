#include "lock_target.h"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

namespace asio = boost::asio;

namespace raftlock::bench {

std::chrono::milliseconds LockTarget::keepalive_interval() const {
  // A third of the TTL, as lockbench.py: two keepalives may fail before expiry.
  return std::max(std::chrono::milliseconds(1000),
                  std::chrono::milliseconds(opts_.lease_ttl_s * 1000 / 3));
}

std::unique_ptr<LockTarget> make_target(asio::any_io_executor ex, const Options& o) {
  if (o.target == "raftlock") return make_raftlock_target(std::move(ex), o);
  return make_etcd_target(std::move(ex), o);
}

asio::awaitable<void> run_keepalives(LockTarget& target, const bool* stop) {
  asio::steady_timer timer(target.executor());
  auto next = std::chrono::steady_clock::now() + target.keepalive_interval();
  while (!*stop) {
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::use_awaitable);
    if (*stop || std::chrono::steady_clock::now() < next) continue;
    co_await target.keepalive_all();
    next = std::chrono::steady_clock::now() + target.keepalive_interval();
  }
}

nlohmann::json parse_body(const HttpResponse& res, std::string_view what) {
  if (res.body.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(res.body);
  } catch (const nlohmann::json::exception&) {
    throw http_error(std::string(what) + " (not JSON)", res);
  }
}

std::uint64_t fencing_token_of(const HttpResponse& r, std::string_view what) {
  // The first key of a top-level object: nothing nested can be mistaken for it.
  constexpr std::string_view key = "{\"fencing_token\":";
  if (std::string_view(r.body).substr(0, key.size()) == key) {
    const char* end = r.body.data() + r.body.size();
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(r.body.data() + key.size(), end, v);
    if (ec == std::errc() && p != end && (*p == ',' || *p == '}')) return v;
  }
  const nlohmann::json d = parse_body(r, what);
  const auto it = d.is_object() ? d.find("fencing_token") : d.end();
  if (it == d.end() || !it->is_number_unsigned())
    throw http_error(std::string(what) + " (no fencing_token)", r);
  return it->get<std::uint64_t>();
}

TargetError http_error(std::string_view what, const HttpResponse& res) {
  return TargetError(std::string(what) + " -> HTTP " + std::to_string(res.status) + ": " +
                     res.body.substr(0, 300));
}

}  // namespace raftlock::bench
