// single / uncontended / contended: closed-loop workers, each acquiring and
// releasing as fast as the service answers. Only cycles that start after the
// warm-up and end inside the measured window count.
#include "scenarios.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "report.h"
#include "stats.h"
#include "task_group.h"

namespace asio = boost::asio;
using nlohmann::ordered_json;

namespace raftlock::bench {

std::string random_run_id() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x%02x", rd(), rd() & 0xff);
  return buf;
}

namespace {

struct LoopState {
  bool contended = false;
  std::chrono::nanoseconds hold{0};
  bool stop = false;
  std::int64_t m0 = 0;  // window start; 0 while warming up
  std::int64_t m1 = 0;  // window end; 0 while measuring
  std::vector<std::int64_t> acquire, release, cycle, done_at;
  std::vector<std::uint64_t> per_worker;
  std::vector<std::string> errors;
  // mutual exclusion, observed in-process (one thread: plain integers)
  int holders = 0;
  int max_holders = 0;
  std::uint64_t violations = 0;
  std::uint64_t last_token = 0;
  std::uint64_t token_regressions = 0;
};

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

asio::awaitable<void> sleep_for(std::chrono::nanoseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

// Inside the critical section: yield to the event loop at least once, so any
// other worker whose acquire completed meanwhile would be seen here.
asio::awaitable<void> hold_lock(LoopState& st) {
  if (st.hold.count() > 0) {
    co_await sleep_for(st.hold);
  } else {
    auto ex = co_await asio::this_coro::executor;
    co_await asio::post(ex, asio::use_awaitable);
  }
}

void enter(LoopState& st, const LockHandle& h) {
  if (++st.holders > 1) ++st.violations;
  st.max_holders = std::max(st.max_holders, st.holders);
  if (h.fencing_token) {
    if (*h.fencing_token <= st.last_token) ++st.token_regressions;
    st.last_token = std::max(st.last_token, *h.fencing_token);
  }
}

asio::awaitable<void> worker(LoopState& st, std::size_t i, LockClient& c, std::string lock) {
  while (!st.stop) {
    std::int64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    bool failed = false;
    try {
      t0 = now_ns();
      LockHandle h = co_await c.acquire(lock);
      t1 = now_ns();
      if (st.contended) {
        enter(st, h);
        co_await hold_lock(st);
        --st.holders;
      } else if (st.hold.count() > 0) {
        co_await sleep_for(st.hold);
      }
      t2 = now_ns();
      co_await c.release(h);
      t3 = now_ns();
    } catch (const std::exception& e) {
      // count, reconnect on the next request, back off a little (below)
      st.errors.push_back(std::string(e.what()).substr(0, 200));
      c.reset_connection();
      failed = true;
    }
    if (failed) {
      co_await sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (st.m0 != 0 && t0 >= st.m0 && (st.m1 == 0 || t3 <= st.m1)) {
      st.acquire.push_back(t1 - t0);
      st.release.push_back(t3 - t2);
      st.cycle.push_back(t3 - t0);
      st.done_at.push_back(t3);
      ++st.per_worker[i];
    }
  }
}

asio::awaitable<void> setup_client(LockClient& c) {
  co_await c.setup();
}
asio::awaitable<void> teardown_client(LockClient& c) {
  co_await c.teardown();
}

ordered_json report(LockTarget& target, const Options& o, LoopState& st, std::size_t nclients,
                    const ordered_json& cpu) {
  const double window = static_cast<double>(st.m1 - st.m0) / 1e9;
  const auto n = st.cycle.size();
  ordered_json r;
  r["target"] = target.name();
  r["scenario"] = o.scenario;
  r["clients"] = nclients;
  r["endpoints"] = endpoints_json(o.endpoints);
  r["duration_s"] = round_to(window, 3);
  r["warmup_s"] = o.warmup_s;
  r["hold_ms"] = o.hold_ms;
  r["cycles"] = n;
  r[st.contended ? "handoffs_per_s" : "cycles_per_s"] =
      round_to(static_cast<double>(n) / window, 1);
  r["acquire_ms"] = pct_summary(st.acquire);
  r["release_ms"] = pct_summary(st.release);
  r["cycle_ms"] = pct_summary(st.cycle);
  if (st.contended) {
    ordered_json me = {{"violations", st.violations}, {"max_holders_seen", st.max_holders}};
    if (target.name() == "raftlock") me["fencing_token_regressions"] = st.token_regressions;
    r["mutual_exclusion"] = me;
    const auto [mn, mx] = std::minmax_element(st.per_worker.begin(), st.per_worker.end());
    r["per_worker_acquisitions"] = {{"min", *mn}, {"max", *mx}};
  }
  r["per_second"] = per_second(st.done_at, st.m0, std::max(1, static_cast<int>(window)));
  r["errors"] = st.errors.size();
  if (!st.errors.empty()) {
    r["error_samples"] = error_samples(st.errors);
  }
  if (target.name() == "raftlock") r["acquire_retries"] = target.acquire_retries_;
  r["cpu"] = cpu;
  return r;
}

}  // namespace

asio::awaitable<ordered_json> run_loop_scenario(LockTarget& target, const Options& o) {
  auto ex = co_await asio::this_coro::executor;
  const std::size_t nclients = o.scenario == "single" ? 1 : static_cast<std::size_t>(o.clients);
  const std::string prefix = "lockbench/" + random_run_id();
  LoopState st;
  st.contended = o.scenario == "contended";
  st.hold = std::chrono::nanoseconds(static_cast<std::int64_t>(o.hold_ms * 1e6));
  st.per_worker.assign(nclients, 0);
  const std::size_t expect = static_cast<std::size_t>((o.duration_s + 1) * 200'000);
  for (auto* v : {&st.acquire, &st.release, &st.cycle, &st.done_at})
    v->reserve(std::min<std::size_t>(expect, 1 << 23));

  std::vector<std::unique_ptr<LockClient>> clients;
  for (std::size_t i = 0; i < nclients; ++i)
    clients.push_back(target.client(i % target.endpoints().size()));
  TaskGroup setups(ex);
  for (auto& c : clients)
    setups.spawn(setup_client(*c));
  co_await setups.wait();

  TaskGroup keepalive(ex);
  bool keepalive_stop = false;
  keepalive.spawn(run_keepalives(target, &keepalive_stop));

  TaskGroup workers(ex);
  for (std::size_t i = 0; i < nclients; ++i) {
    std::string lock = st.contended ? prefix + "/shared" : prefix + "/w" + std::to_string(i);
    workers.spawn(worker(st, i, *clients[i], target.lock_name(lock)));
  }
  co_await sleep_for(seconds(o.warmup_s));
  const CpuSample cpu0 = CpuSample::take(o.server_pids);
  st.m0 = now_ns();
  co_await sleep_for(seconds(o.duration_s));
  st.m1 = now_ns();
  const CpuSample cpu1 = CpuSample::take(o.server_pids);
  st.stop = true;

  // Workers finish their current cycle; one stuck for 30 s loses its connection.
  asio::steady_timer watchdog(ex);
  watchdog.expires_after(std::chrono::seconds(30));
  watchdog.async_wait([&clients](boost::system::error_code ec) {
    if (ec) return;
    for (auto& c : clients)
      c->reset_connection();
  });
  co_await workers.wait();
  watchdog.cancel();
  keepalive_stop = true;
  co_await keepalive.wait();
  TaskGroup teardowns(ex);
  for (auto& c : clients)
    teardowns.spawn(teardown_client(*c));
  co_await teardowns.wait();

  co_return report(target, o, st, nclients, cpu_diff(cpu0, cpu1));
}

}  // namespace raftlock::bench
