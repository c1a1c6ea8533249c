// memory: many sessions holding many locks, to weigh the servers' state.
// C workers (one connection each) create the sessions round-robin; each
// session takes its share of the locks (wait_ms as configured; the names are
// unique, so nothing waits). Everything is left in place when the tool exits
// -- sessions expire after --lease-ttl -- so that a script can restart a node
// and time its recovery with that state on disk.
#include "scenarios.h"

#include <algorithm>

#include "report.h"
#include "stats.h"
#include "task_group.h"

namespace asio = boost::asio;
using nlohmann::ordered_json;

namespace raftlock::bench {
namespace {

struct MemoryState {
  std::string prefix;
  std::size_t sessions = 0;
  std::size_t locks = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t locks_held = 0;
  std::vector<std::int64_t> session_ns, acquire_ns;
  std::vector<std::string> errors;
};

void note_error(MemoryState& st, LockClient& c, const std::exception& e) {
  if (st.errors.size() < 10000) st.errors.push_back(std::string(e.what()).substr(0, 200));
  c.reset_connection();
}

asio::awaitable<void> memory_worker(LockTarget& target, MemoryState& st, std::size_t w,
                                    std::size_t nworkers) {
  auto conn = std::make_shared<HttpConnection>(co_await asio::this_coro::executor,
                                               target.endpoints()[w % target.endpoints().size()]);
  for (std::size_t s = w; s < st.sessions; s += nworkers) {
    auto client = target.client_on(conn);
    try {
      const std::int64_t t0 = now_ns();
      co_await client->setup();
      st.session_ns.push_back(now_ns() - t0);
      ++st.sessions_created;
    } catch (const std::exception& e) {
      note_error(st, *client, e);
      continue;
    }
    const std::size_t n = st.locks / st.sessions + (s < st.locks % st.sessions ? 1 : 0);
    for (std::size_t k = 0; k < n; ++k) {
      const std::string name =
          target.lock_name(st.prefix + "/s" + std::to_string(s) + "/l" + std::to_string(k));
      try {
        const std::int64_t t0 = now_ns();
        co_await client->acquire(name);
        st.acquire_ns.push_back(now_ns() - t0);
        ++st.locks_held;
      } catch (const std::exception& e) {
        note_error(st, *client, e);
      }
    }
  }
  conn->close();
}

}  // namespace

asio::awaitable<ordered_json> run_memory_scenario(LockTarget& target, const Options& o) {
  auto ex = co_await asio::this_coro::executor;
  MemoryState st;
  st.prefix = "lockbench/" + random_run_id() + "/mem";
  st.sessions = static_cast<std::size_t>(o.sessions);
  st.locks = static_cast<std::size_t>(o.locks);
  st.session_ns.reserve(st.sessions);
  st.acquire_ns.reserve(st.locks);
  const std::size_t nworkers = std::min<std::size_t>(o.clients, st.sessions);

  std::map<int, std::optional<std::uint64_t>> rss_before;
  for (int pid : o.server_pids)
    rss_before[pid] = rss_kib(pid);
  const CpuSample cpu0 = CpuSample::take(o.server_pids);
  const std::int64_t t0 = now_ns();
  TaskGroup workers(ex);
  for (std::size_t w = 0; w < nworkers; ++w)
    workers.spawn(memory_worker(target, st, w, nworkers));
  co_await workers.wait();
  const double elapsed = static_cast<double>(now_ns() - t0) / 1e9;
  const CpuSample cpu1 = CpuSample::take(o.server_pids);

  ordered_json r;
  r["target"] = target.name();
  r["scenario"] = "memory";
  r["clients"] = nworkers;
  r["endpoints"] = endpoints_json(o.endpoints);
  r["sessions"] = st.sessions_created;
  r["locks_held"] = st.locks_held;
  r["session_ttl_ms"] = o.lease_ttl_s * 1000LL;
  r["create_s"] = round_to(elapsed, 3);
  r["requests_per_s"] =
      round_to(static_cast<double>(st.sessions_created + st.locks_held) / elapsed, 1);
  r["session_create_ms"] = pct_summary(st.session_ns);
  r["acquire_ms"] = pct_summary(st.acquire_ns);
  ordered_json rss = ordered_json::object();
  std::uint64_t total = 0;
  for (int pid : o.server_pids) {
    const auto after = rss_kib(pid);
    rss[std::to_string(pid)] = {
        {"before_kib", rss_before[pid] ? ordered_json(*rss_before[pid]) : ordered_json(nullptr)},
        {"after_kib", after ? ordered_json(*after) : ordered_json(nullptr)}};
    total += after.value_or(0);
  }
  r["rss"] = rss;
  r["rss_total_kib"] = total;
  r["errors"] = st.errors.size();
  if (!st.errors.empty()) {
    r["error_samples"] = error_samples(st.errors);
  }
  r["cpu"] = cpu_diff(cpu0, cpu1);
  co_return r;
}

}  // namespace raftlock::bench
