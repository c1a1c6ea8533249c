// Entries per second a 3-node in-memory cluster commits through the Raft core
// alone: no I/O, no serialization, messages handed over directly. The upper
// bound that later layers (SQLite, TCP, HTTP) are compared against.
//
//   raft_core_bench [--entries N] [--batch B] [--payload BYTES] [--runs R]
//
// Each round proposes B entries at the leader, then delivers messages until
// all of them are committed and applied on every node. Prints one line per run
// and the median.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "raft/conf_change.h"
#include "raft/core.h"
#include "raft/memory_log_store.h"

using namespace raftlock::raft;

namespace {

struct Node {
  std::unique_ptr<MemoryLogStore> store;
  std::unique_ptr<Core> core;
  Index applied = 0;
};

class Cluster {
 public:
  explicit Cluster(int n) {
    ConfState conf;
    for (int i = 1; i <= n; ++i)
      conf.voters.insert(i);
    for (int i = 1; i <= n; ++i) {
      Node node;
      node.store = std::make_unique<MemoryLogStore>();
      if (!node.store->write(bootstrap_write(conf))) std::abort();
      Config cfg;
      cfg.id = i;
      cfg.seed = 42 + i;
      cfg.max_inflight_msgs = 256;
      cfg.max_uncommitted_entries = 1 << 20;
      node.core = std::make_unique<Core>(cfg, *node.store);
      nodes_.push_back(std::move(node));
    }
  }

  Node& node(NodeId id) { return nodes_[id - 1]; }

  // Runs every node's Ready cycle and delivers messages until quiet.
  void settle() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (auto& n : nodes_) {
        while (n.core->has_ready()) {
          busy = true;
          Ready rd = n.core->ready();
          if (!n.store->write(rd.storage_write())) std::abort();
          for (auto& m : rd.messages)
            inbox_.push_back(std::move(m));
          if (!rd.committed_entries.empty()) n.applied = rd.committed_entries.back().index;
          n.core->advance(rd);
        }
      }
      while (!inbox_.empty()) {
        busy = true;
        Message m = std::move(inbox_.front());
        inbox_.pop_front();
        (void)node(m.to).core->step(m);
      }
    }
  }

  NodeId elect() {
    node(1).core->campaign();
    settle();
    for (int t = 0; t < 100 && node(1).core->status().role != Role::kLeader; ++t) {
      for (auto& n : nodes_)
        n.core->tick();
      settle();
    }
    return node(1).core->status().role == Role::kLeader ? 1 : 0;
  }

  std::size_t size() const { return nodes_.size(); }

 private:
  std::vector<Node> nodes_;
  std::deque<Message> inbox_;
};

double run(std::uint64_t entries, std::uint64_t batch, std::size_t payload) {
  Cluster c(3);
  if (c.elect() != 1) {
    std::fprintf(stderr, "no leader\n");
    std::exit(1);
  }
  Core& leader = *c.node(1).core;
  const Index start = leader.status().last_index;
  const std::string data(payload, 'x');
  auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t done = 0; done < entries; done += batch) {
    for (std::uint64_t k = 0; k < batch; ++k) {
      if (!leader.propose(data)) std::abort();
    }
    c.settle();
  }
  auto t1 = std::chrono::steady_clock::now();
  for (NodeId id = 1; id <= 3; ++id) {
    if (c.node(id).applied < start + entries) {
      std::fprintf(stderr, "node %llu applied only %llu\n", (unsigned long long)id,
                   (unsigned long long)c.node(id).applied);
      std::exit(1);
    }
  }
  return entries / std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t entries = 200000;
  std::uint64_t batch = 64;
  std::size_t payload = 64;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--entries"))
      entries = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--batch"))
      batch = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--payload"))
      payload = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
    else {
      std::fprintf(
          stderr,
          "usage: raft_core_bench [--entries N] [--batch B] [--payload BYTES] [--runs R]\n");
      return 2;
    }
  }
  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    double rate = run(entries, batch, payload);
    rates.push_back(rate);
    std::printf("run %d: %.0f entries/s committed and applied on 3 nodes\n", r + 1, rate);
  }
  std::sort(rates.begin(), rates.end());
  std::printf("median: %.0f entries/s (3 nodes, %llu entries, batch %llu, payload %zu B)\n",
              rates[rates.size() / 2], (unsigned long long)entries, (unsigned long long)batch,
              payload);
  return 0;
}
