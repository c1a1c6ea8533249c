// Smoke tests of lockbench's argument parsing and report arithmetic. Nothing
// here touches the network or depends on timing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <vector>

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
