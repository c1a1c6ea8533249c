// http_load: a closed-loop HTTP/1.1 load generator for raftlockd benchmarks.
//
//   http_load --endpoints 127.0.0.1:8081,127.0.0.1:8082 [--clients 64] [--duration 10]
//             [--warmup 1] [--method POST] [--path /v1/sessions] [--body '{}']
//             [--timeout-ms 5000]
//
// One thread, one io_context, one keep-alive connection per client; client i
// talks to endpoint i % len(endpoints) and sends its next request as soon as
// the previous answer arrived. Only answers completed inside the measurement
// window [warmup, warmup + duration) are counted. Prints one JSON line:
// count (2xx answers), rate, latency percentiles of the 2xx answers in ms,
// errors by HTTP status or by transport failure, the X-Raft-Term range and the
// X-Raft-Leader values seen, and the CPU time this process used.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::vector<std::string> endpoints;
  int clients = 1;
  double duration_s = 10.0;
  double warmup_s = 0.0;
  std::string method = "POST";
  std::string path = "/v1/sessions";
  std::string body = "{}";
  int timeout_ms = 5000;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "http_load: %s\n"
               "usage: http_load --endpoints HOST:PORT[,HOST:PORT...] [--clients N] "
               "[--duration S] [--warmup S] [--method M] [--path P] [--body B] "
               "[--timeout-ms MS]\n",
               msg);
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

double to_double(const char* flag, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(d >= 0)) usage((std::string("bad ") + flag).c_str());
  return d;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--endpoints") {
      o.endpoints = split(value(), ',');
    } else if (a == "--clients") {
      o.clients = static_cast<int>(to_double("--clients", value()));
    } else if (a == "--duration") {
      o.duration_s = to_double("--duration", value());
    } else if (a == "--warmup") {
      o.warmup_s = to_double("--warmup", value());
    } else if (a == "--method") {
      o.method = value();
    } else if (a == "--path") {
      o.path = value();
    } else if (a == "--body") {
      o.body = value();
    } else if (a == "--timeout-ms") {
      o.timeout_ms = static_cast<int>(to_double("--timeout-ms", value()));
    } else if (a == "-h" || a == "--help") {
      usage("help");
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (o.endpoints.empty()) usage("--endpoints is required");
  if (o.clients < 1) usage("--clients must be at least 1");
  if (o.duration_s <= 0) usage("--duration must be positive");
  if (o.timeout_ms < 1) usage("--timeout-ms must be positive");
  return o;
}

// Everything is on one thread: plain shared counters.
struct Stats {
  Clock::time_point window_start;
  Clock::time_point window_end;
  std::vector<std::uint32_t> lat_us;  // 2xx answers inside the window
  std::map<std::string, std::uint64_t> ok_by_status;
  std::map<std::string, std::uint64_t> errors;  // by status or failure kind
  std::uint64_t term_min = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t term_max = 0;
  std::set<std::string> leaders;
  std::uint64_t reconnects = 0;

  bool in_window(Clock::time_point t) const { return t >= window_start && t < window_end; }
};

class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(asio::io_context& io, Stats& stats, tcp::resolver::results_type endpoint,
         std::string request, std::chrono::milliseconds timeout)
      : io_(io),
        stats_(stats),
        endpoint_(std::move(endpoint)),
        request_(std::move(request)),
        timeout_(timeout),
        socket_(io),
        timer_(io) {}

  void start() { connect(); }

  void stop() {
    stopping_ = true;
    timer_.cancel();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  void connect() {
    if (stopping_) return;
    socket_ = tcp::socket(io_);
    buffer_.clear();
    arm_timer();
    asio::async_connect(socket_, endpoint_,
                        [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                          self->on_connect(ec);
                        });
  }

  void on_connect(beast::error_code ec) {
    if (stopping_) return;
    if (ec) return fail("connect");
    beast::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    send();
  }

  void arm_timer() {
    timed_out_ = false;
    timer_.expires_after(timeout_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopping_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.close(ignored);  // completes the pending operation with an error
    });
  }

  void send() {
    if (stopping_) return;
    sent_ = Clock::now();
    arm_timer();
    asio::async_write(
        socket_, asio::buffer(request_),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (stopping_) return;
    if (ec) return fail("write");
    parser_.emplace();
    parser_->body_limit(1 << 20);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (stopping_) return;
    if (ec) return fail("read");
    timer_.cancel();
    const auto now = Clock::now();
    const auto& res = parser_->get();
    const unsigned status = res.result_int();
    if (stats_.in_window(now)) {
      const std::string key = std::to_string(status);
      if (status >= 200 && status < 300) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_).count();
        stats_.lat_us.push_back(static_cast<std::uint32_t>(
            std::min<long long>(us, std::numeric_limits<std::uint32_t>::max())));
        ++stats_.ok_by_status[key];
      } else {
        ++stats_.errors[key];
      }
      auto term = res.find("X-Raft-Term");
      if (term != res.end()) {
        const std::uint64_t t = std::strtoull(std::string(term->value()).c_str(), nullptr, 10);
        stats_.term_min = std::min(stats_.term_min, t);
        stats_.term_max = std::max(stats_.term_max, t);
      }
      auto leader = res.find("X-Raft-Leader");
      if (leader != res.end()) stats_.leaders.insert(std::string(leader->value()));
    }
    if (!res.keep_alive()) {
      beast::error_code ignored;
      socket_.close(ignored);
      ++stats_.reconnects;
      return connect();
    }
    send();
  }

  void fail(const char* what) {
    if (stats_.in_window(Clock::now())) ++stats_.errors[timed_out_ ? "timeout" : what];
    timer_.cancel();
    beast::error_code ignored;
    socket_.close(ignored);
    if (stopping_) return;
    ++stats_.reconnects;
    // Back off a little so a refused connection does not spin the loop.
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }

  asio::io_context& io_;
  Stats& stats_;
  tcp::resolver::results_type endpoint_;
  const std::string request_;
  const std::chrono::milliseconds timeout_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Clock::time_point sent_;
  bool timed_out_ = false;
  bool stopping_ = false;
};

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_counts(const std::map<std::string, std::uint64_t>& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ",";
    out += json_string(k) + ":" + std::to_string(v);
  }
  return out + "}";
}

// Nearest-rank percentile of sorted values, in milliseconds.
double pct_ms(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto n = static_cast<double>(sorted.size());
  auto k = static_cast<long long>(std::ceil(p / 100.0 * n)) - 1;
  k = std::clamp<long long>(k, 0, static_cast<long long>(sorted.size()) - 1);
  return sorted[static_cast<std::size_t>(k)] / 1000.0;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opts = parse(argc, argv);
  asio::io_context io(1);

  std::vector<tcp::resolver::results_type> resolved;
  std::vector<std::string> hosts;
  tcp::resolver resolver(io);
  for (std::string ep : opts.endpoints) {
    if (ep.rfind("http://", 0) == 0) ep = ep.substr(7);
    const auto colon = ep.rfind(':');
    if (colon == std::string::npos) usage(("endpoint without port: " + ep).c_str());
    beast::error_code ec;
    auto r = resolver.resolve(ep.substr(0, colon), ep.substr(colon + 1), ec);
    if (ec) usage(("cannot resolve " + ep + ": " + ec.message()).c_str());
    resolved.push_back(r);
    hosts.push_back(ep);
  }

  Stats stats;
  const auto t0 = Clock::now();
  const auto to_dur = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  stats.window_start = t0 + to_dur(opts.warmup_s);
  stats.window_end = stats.window_start + to_dur(opts.duration_s);
  stats.lat_us.reserve(1 << 20);

  std::vector<std::shared_ptr<Client>> clients;
  for (int i = 0; i < opts.clients; ++i) {
    const std::size_t e = static_cast<std::size_t>(i) % resolved.size();
    std::string req = opts.method + " " + opts.path + " HTTP/1.1\r\nHost: " + hosts[e] +
                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(opts.body.size()) + "\r\n\r\n" + opts.body;
    clients.push_back(std::make_shared<Client>(io, stats, resolved[e], std::move(req),
                                               std::chrono::milliseconds(opts.timeout_ms)));
  }
  const double cpu0 = cpu_seconds();
  for (auto& c : clients)
    c->start();

  asio::steady_timer end_timer(io);
  end_timer.expires_at(stats.window_end);
  end_timer.async_wait([&clients](beast::error_code) {
    for (auto& c : clients)
      c->stop();
  });
  io.run();
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<std::uint32_t>& lat = stats.lat_us;
  std::sort(lat.begin(), lat.end());
  double sum_ms = 0;
  for (std::uint32_t v : lat)
    sum_ms += v / 1000.0;
  const std::size_t n = lat.size();
  std::string leaders = "[";
  for (const std::string& l : stats.leaders) {
    if (leaders.size() > 1) leaders += ",";
    leaders += json_string(l);
  }
  leaders += "]";
  std::string eps = "[";
  for (const std::string& h : hosts) {
    if (eps.size() > 1) eps += ",";
    eps += json_string(h);
  }
  eps += "]";
  const std::uint64_t term_min =
      stats.term_min == std::numeric_limits<std::uint64_t>::max() ? 0 : stats.term_min;

  std::printf(
      "{\"tool\":\"http_load\",\"method\":%s,\"path\":%s,\"endpoints\":%s,\"clients\":%d,"
      "\"warmup_s\":%.3f,\"duration_s\":%.3f,\"count\":%zu,\"rate\":%.1f,"
      "\"lat_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,"
      "\"mean\":%.3f},\"ok_by_status\":%s,\"errors\":%s,\"reconnects\":%llu,"
      "\"term_min\":%llu,\"term_max\":%llu,\"leaders_seen\":%s,\"client_cpu_s\":%.3f,"
      "\"client_cpu_us_per_req\":%.2f,\"wall_s\":%.3f}\n",
      json_string(opts.method).c_str(), json_string(opts.path).c_str(), eps.c_str(), opts.clients,
      opts.warmup_s, opts.duration_s, n, n / opts.duration_s, pct_ms(lat, 50), pct_ms(lat, 90),
      pct_ms(lat, 99), pct_ms(lat, 99.9), n ? lat.back() / 1000.0 : 0.0, n ? sum_ms / n : 0.0,
      json_counts(stats.ok_by_status).c_str(), json_counts(stats.errors).c_str(),
      static_cast<unsigned long long>(stats.reconnects), static_cast<unsigned long long>(term_min),
      static_cast<unsigned long long>(stats.term_max), leaders.c_str(), cpu,
      n ? cpu * 1e6 / static_cast<double>(n) : 0.0, wall);
  return 0;
}
