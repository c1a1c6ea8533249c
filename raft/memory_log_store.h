// MemoryLogStore: the LogStore kept in memory. Used by tests and the
// simulation, where "durable" means "survives destroying the Core".
#pragma once

#include <vector>

#include "raft/log_store.h"

namespace raftlock::raft {

class MemoryLogStore final : public LogStore {
 public:
  MemoryLogStore() = default;
  // A store that starts from a snapshot (e.g. a bootstrapped configuration).
  explicit MemoryLogStore(Snapshot initial);

  InitialState initial_state() const override;
  Index first_index() const override;
  Index last_index() const override;
  Result<Term> term(Index i) const override;
  Result<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t max_bytes) const override;
  Snapshot snapshot() const override;
  Status write(const StorageWrite& w) override;

 private:
  void install(const Snapshot& s);
  Status append(const std::vector<Entry>& entries);
  void compact(const Snapshot& s);

  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> entries_;  // entries_[k].index == snapshot_.meta.index + 1 + k
};

}  // namespace raftlock::raft
