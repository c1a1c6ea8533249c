#include "options.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <sstream>

namespace po = boost::program_options;

namespace raftlock::bench {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

}  // namespace

std::vector<Endpoint> parse_endpoints(const std::string& csv, std::string* error) {
  std::vector<Endpoint> out;
  for (std::string e : split(csv, ',')) {
    if (e.rfind("http://", 0) == 0) e = e.substr(7);
    const auto colon = e.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      *error = "endpoint without host:port: " + e;
      return {};
    }
    Endpoint ep{.host = e.substr(0, colon)};
    const std::string port = e.substr(colon + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535) {
      *error = "bad port in endpoint " + e;
      return {};
    }
    if (!is_loopback(ep.host)) {
      *error = "refusing non-loopback endpoint " + ep.host;
      return {};
    }
    ep.port = static_cast<std::uint16_t>(v);
    out.push_back(std::move(ep));
  }
  if (out.empty()) *error = "no endpoints";
  return out;
}

ParseResult parse_options(int argc, const char* const* argv) {
  Options o;
  std::string endpoints = "127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793";
  std::string pids;
  po::options_description desc(
      "lockbench: distributed-lock load generator (one JSON line per run)\nOptions");
  desc.add_options()                                                                //
      ("help,h", "this text")                                                       //
      ("target", po::value(&o.target)->default_value(o.target), "etcd | raftlock")  //
      ("endpoints", po::value(&endpoints)->default_value(endpoints), "host:port,...")(
          "scenario", po::value(&o.scenario)->default_value(o.scenario),
          "single | uncontended | contended | memory")(
          "clients", po::value(&o.clients)->default_value(o.clients),
          "workers, one connection each")(
          "duration", po::value(&o.duration_s)->default_value(o.duration_s), "measured seconds")(
          "warmup", po::value(&o.warmup_s)->default_value(o.warmup_s), "unmeasured seconds before")(
          "hold-ms", po::value(&o.hold_ms)->default_value(o.hold_ms),
          "time to hold the lock (contended: 0 still yields once to the event loop)")(
          "lease-ttl", po::value(&o.lease_ttl_s)->default_value(o.lease_ttl_s),
          "etcd lease TTL / raftlock session ttl, seconds")(
          "wait-ms", po::value(&o.wait_ms)->default_value(o.wait_ms),
          "raftlock: wait_ms of each acquire (blocks server-side)")(
          "server-pids", po::value(&pids), "comma-separated server PIDs (CPU; RSS in memory)")(
          "sessions", po::value(&o.sessions)->default_value(o.sessions), "memory: sessions")(
          "locks", po::value(&o.locks)->default_value(o.locks), "memory: locks in total")(
          "label", po::value(&o.label), "free text copied into the report")(
          "json-out", po::value(&o.json_out), "also append the JSON line to this file");

  ParseResult r;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::ostringstream s;
      s << desc;
      r.help = true;
      r.message = s.str();
      return r;
    }
  } catch (const po::error& e) {
    r.message = e.what();
    return r;
  }
  auto fail = [&r](std::string msg) {
    r.message = std::move(msg);
    return r;
  };
  if (o.target != "etcd" && o.target != "raftlock") return fail("--target: etcd or raftlock");
  if (o.scenario != "single" && o.scenario != "uncontended" && o.scenario != "contended" &&
      o.scenario != "memory")
    return fail("--scenario: single, uncontended, contended or memory");
  if (o.clients < 1 || o.clients > 10000) return fail("--clients: 1..10000");
  if (!(o.duration_s > 0)) return fail("--duration must be positive");
  if (!(o.warmup_s >= 0)) return fail("--warmup must not be negative");
  if (!(o.hold_ms >= 0)) return fail("--hold-ms must not be negative");
  if (o.lease_ttl_s < 1) return fail("--lease-ttl: at least 1 s");
  if (o.wait_ms < 0 || o.wait_ms > 300000) return fail("--wait-ms: 0..300000");
  if (o.sessions < 1 || o.locks < 0) return fail("--sessions >= 1, --locks >= 0");
  if (o.scenario == "single") o.clients = 1;
  std::string err;
  o.endpoints = parse_endpoints(endpoints, &err);
  if (o.endpoints.empty()) return fail(err);
  for (const std::string& p : split(pids, ',')) {
    int v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || v <= 0)
      return fail("--server-pids: bad pid " + p);
    o.server_pids.push_back(v);
  }
  r.options = std::move(o);
  return r;
}

}  // namespace raftlock::bench
