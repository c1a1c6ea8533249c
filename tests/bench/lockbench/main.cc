// lockbench: a distributed-lock load generator. One thread, one io_context,
// one keep-alive HTTP/1.1 connection per worker (Boost.Beast, coroutines), so
// that the client costs a few microseconds of CPU per request and is not what
// limits a fast service on a small machine. Prints one JSON line per run.
//
//   lockbench --target etcd|raftlock --endpoints H:P,H:P,H:P
//             --scenario single|uncontended|contended|memory [--clients C]
//             [--duration S] [--warmup S] [--hold-ms MS] [--lease-ttl S]
//             [--wait-ms MS] [--server-pids P,P,P] [--sessions N --locks N]
//             [--label TEXT] [--json-out FILE]
//
// The scenarios and field names follow /work/shared/bench/lockbench.py.
#include "lock_target.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <exception>

#include "options.h"
#include "report.h"
#include "scenarios.h"

namespace asio = boost::asio;
using namespace raftlock::bench;

namespace {

asio::awaitable<nlohmann::ordered_json> run(LockTarget& target, const Options& opts) {
  nlohmann::json server;
  try {
    server = co_await target.describe();
  } catch (const std::exception& e) {
    server = {{"describe_error", e.what()}};
  }
  // (no co_await inside ?: -- GCC 12 mishandles it)
  nlohmann::ordered_json result;
  if (opts.scenario == "memory") {
    result = co_await run_memory_scenario(target, opts);
  } else {
    result = co_await run_loop_scenario(target, opts);
  }
  finish_report(result, opts, server);
  co_return result;
}

}  // namespace

int main(int argc, char** argv) {
  const ParseResult parsed = parse_options(argc, argv);
  if (!parsed.options) {
    std::fprintf(parsed.help ? stdout : stderr, "%s%s\n",
                 parsed.help ? "" : "lockbench: ", parsed.message.c_str());
    return parsed.help ? 0 : 2;
  }
  const Options& opts = *parsed.options;
  asio::io_context io(1);
  auto target = make_target(io.get_executor(), opts);
  nlohmann::ordered_json result;
  std::exception_ptr failure;
  asio::co_spawn(io, run(*target, opts), [&](std::exception_ptr e, nlohmann::ordered_json r) {
    failure = e;
    result = std::move(r);
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lockbench: %s\n", e.what());
      return 1;
    }
  }
  return emit_report(result, opts) ? 0 : 1;
}
