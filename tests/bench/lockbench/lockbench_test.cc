// Tests of lockbench's argument parsing, report arithmetic and HTTP response
// parsing. Nothing here touches the network or depends on timing
// (http_connection_test.cc talks to a server of its own on 127.0.0.1).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http_response.h"
#include "options.h"
#include "report.h"
#include "stats.h"

using namespace raftlock::bench;

namespace {
ParseResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "lockbench");
  return parse_options(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("defaults match lockbench.py") {
  const ParseResult r = parse({});
  REQUIRE(r.options);
  CHECK(r.options->target == "etcd");
  CHECK(r.options->scenario == "uncontended");
  CHECK(r.options->clients == 16);
  CHECK(r.options->endpoints.size() == 3);
  CHECK(r.options->endpoints[0].text() == "127.0.0.1:23791");
  CHECK(r.options->lease_ttl_s == 60);
}

TEST_CASE("flags are parsed; single forces one client") {
  const ParseResult r =
      parse({"--target", "raftlock", "--endpoints", "http://localhost:8081,127.0.0.2:9",
             "--scenario", "single", "--clients", "64", "--duration", "2.5", "--server-pids",
             "10,20", "--wait-ms", "1000"});
  REQUIRE(r.options);
  CHECK(r.options->clients == 1);
  CHECK(r.options->duration_s == doctest::Approx(2.5));
  CHECK(r.options->endpoints[0].host == "localhost");
  CHECK(r.options->endpoints[0].port == 8081);
  CHECK(r.options->endpoints[1].port == 9);
  CHECK(r.options->server_pids == std::vector<int>{10, 20});
  CHECK(r.options->wait_ms == 1000);
}

TEST_CASE("bad flags are errors, not exits") {
  CHECK_FALSE(parse({"--target", "zookeeper"}).options);
  CHECK_FALSE(parse({"--scenario", "failover"}).options);
  CHECK_FALSE(parse({"--clients", "0"}).options);
  CHECK_FALSE(parse({"--endpoints", "10.0.0.1:2379"}).options);
  CHECK_FALSE(parse({"--endpoints", "127.0.0.1"}).options);
  CHECK_FALSE(parse({"--endpoints", "127.0.0.1:99999"}).options);
  CHECK_FALSE(parse({"--server-pids", "12,x"}).options);
  CHECK_FALSE(parse({"--no-such-flag"}).options);
  CHECK_FALSE(parse({"--wait-ms", "300001"}).options);
  const ParseResult help = parse({"--help"});
  CHECK(help.help);
  CHECK(help.message.find("--scenario") != std::string::npos);
}

TEST_CASE("percentiles are nearest-rank, in milliseconds") {
  std::vector<std::int64_t> ns;
  for (int i = 100; i >= 1; --i)
    ns.push_back(i * 1'000'000LL);  // 1..100 ms, unsorted
  const auto s = pct_summary(ns);
  CHECK(s["n"] == 100);
  CHECK(s["p50"].get<double>() == doctest::Approx(50.0));
  CHECK(s["p90"].get<double>() == doctest::Approx(90.0));
  CHECK(s["p99"].get<double>() == doctest::Approx(99.0));
  CHECK(s["max"].get<double>() == doctest::Approx(100.0));
  CHECK(s["mean"].get<double>() == doctest::Approx(50.5));
  std::vector<std::int64_t> empty;
  CHECK(pct_summary(empty).dump() == R"({"n":0})");
}

TEST_CASE("per-second buckets drop what falls outside the window") {
  const std::int64_t s = 1'000'000'000;
  const auto b = per_second({-1, 0, s - 1, s, 2 * s + 5, 3 * s}, 0, 3);
  CHECK(b == std::vector<std::uint64_t>{2, 1, 1});
}

TEST_CASE("report pieces") {
  CHECK(error_samples({"b", "a", "b", "c"}, 2) == std::vector<std::string>{"a", "b"});
  std::string err;
  const auto eps = parse_endpoints("127.0.0.1:1, 127.0.0.1:2", &err);
  CHECK(endpoints_json(eps).dump() == R"(["127.0.0.1:1","127.0.0.1:2"])");
  Options o;
  o.label = "x";
  nlohmann::ordered_json r = {{"target", "etcd"}};
  finish_report(r, o, nlohmann::json::object());
  CHECK(r["label"] == "x");
  CHECK(r["client"]["tool"] == "lockbench");
  CHECK(round_to(1.23456, 3) == doctest::Approx(1.235));
}

TEST_CASE("responses framed by Content-Length, in pieces") {
  const std::string r =
      "HTTP/1.1 200 OK\r\ncontent-LENGTH: 5\r\nContent-Type: application/json\r\n\r\n{\"a\":1}";
  CHECK(parse_response(r.substr(0, 10), false).outcome == ParsedResponse::Outcome::kIncomplete);
  CHECK(parse_response(r.substr(0, r.size() - 3), false).outcome ==
        ParsedResponse::Outcome::kIncomplete);
  const ParsedResponse p = parse_response(r + "HTTP/1.1 ...", false);
  REQUIRE(p.outcome == ParsedResponse::Outcome::kComplete);
  CHECK(p.status == 200);
  CHECK(p.body == "{\"a\":");
  CHECK(p.consumed == r.size() - 2);
  CHECK(p.keep_alive);
  // Short at the connection's end: an error, not a response.
  CHECK(parse_response(r.substr(0, r.size() - 5), true).outcome ==
        ParsedResponse::Outcome::kMalformed);
}

TEST_CASE("chunked responses, trailers, interim answers and connection close") {
  const std::string chunked =
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  const ParsedResponse c = parse_response(chunked + "HTTP/1.1 200", false);
  REQUIRE(c.outcome == ParsedResponse::Outcome::kComplete);
  CHECK(c.status == 404);
  CHECK(c.body == "abc0123456789");
  CHECK(c.consumed == chunked.size());
  CHECK(c.keep_alive);
  CHECK(parse_response(chunked.substr(0, chunked.size() - 2), false).outcome ==
        ParsedResponse::Outcome::kIncomplete);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false)
            .outcome == ParsedResponse::Outcome::kMalformed);

  const ParsedResponse interim = parse_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2", false);
  CHECK(interim.outcome == ParsedResponse::Outcome::kComplete);
  CHECK(interim.status == 100);
  CHECK(interim.consumed == 25);

  const std::string closing = "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  CHECK_FALSE(parse_response(closing, false).keep_alive);
  CHECK_FALSE(parse_response("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
                             "Content-Length: 0\r\n\r\n",
                             false)
                  .keep_alive);  // close wins
  const ParsedResponse both = parse_response(
      "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: "
      "chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
      false);
  CHECK(both.outcome == ParsedResponse::Outcome::kComplete);
  CHECK(both.body == "z");       // chunked wins over the length...
  CHECK_FALSE(both.keep_alive);  // ...and the connection is not used again
  const std::string old = "HTTP/1.0 200 OK\r\n\r\nuntil the end";
  CHECK(parse_response(old, false).outcome == ParsedResponse::Outcome::kIncomplete);
  const ParsedResponse o = parse_response(old, true);
  REQUIRE(o.outcome == ParsedResponse::Outcome::kComplete);
  CHECK(o.body == "until the end");
  CHECK_FALSE(o.keep_alive);
  CHECK(parse_response("HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n", false)
            .keep_alive);
}

TEST_CASE("malformed responses are errors") {
  using O = ParsedResponse::Outcome;
  CHECK(parse_response("SMTP ready\r\n\r\n", false).outcome == O::kMalformed);
  CHECK(parse_response("HTTP/1.1 2x0 OK\r\n\r\n", false).outcome == O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", false).outcome == O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false).outcome ==
        O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false)
            .outcome == O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false).outcome ==
        O::kMalformed);
  CHECK(parse_response("", true).outcome == O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", false).outcome ==
        O::kMalformed);
  CHECK(parse_response("HTTP/1.1 101 Switching Protocols\r\n\r\n", false).outcome == O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "10000000000000000\r\n",
                       false)
            .outcome == O::kMalformed);  // a chunk size of 17 hex digits
  CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n900000\r\n", false)
            .outcome == O::kMalformed);  // 9 MiB: over the body limit
  CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 8388609\r\n\r\n", false).outcome ==
        O::kMalformed);
  CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 8388608\r\n\r\n", false).outcome ==
        O::kIncomplete);  // at the limit: waits for it
  CHECK(parse_response(std::string(kMaxResponseHeaderBytes + 1, 'x'), false).outcome ==
        O::kMalformed);
}
