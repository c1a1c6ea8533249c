#include "raft/progress.h"

#include <algorithm>

#include "raft/assert.h"

namespace raftlock::raft {

void Inflights::add(Index last) {
  RAFTLOCK_ASSERT(!full());
  q_.push_back(last);
}

void Inflights::free_le(Index index) {
  while (!q_.empty() && q_.front() <= index)
    q_.pop_front();
}

void Inflights::free_first_one() {
  if (!q_.empty()) q_.pop_front();
}

void Progress::become_probe() {
  // After a snapshot, resume right after it; otherwise right after the match.
  if (state == State::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = State::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.reset();
}

void Progress::become_replicate() {
  state = State::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.reset();
}

void Progress::become_snapshot(Index snapshot_index) {
  state = State::kSnapshot;
  probe_sent = false;
  pending_snapshot = snapshot_index;
  snapshot_rounds = 0;
  inflights.reset();
}

bool Progress::maybe_update(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;  // the peer answered: the next probe may go out
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decrease_to(Index rejected, Index hint) {
  if (state == State::kReplicate) {
    // Stale if the rejected index is already known to match.
    if (rejected <= match) return false;
    next = std::max(match + 1, std::min(rejected, hint + 1));
    // Probe from there.
    state = State::kProbe;
    probe_sent = false;
    inflights.reset();
    return true;
  }
  // kProbe/kSnapshot: only the answer to the probe we sent (prev index next-1) counts.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(match + 1, std::min(rejected, hint + 1));
  probe_sent = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state) {
    case State::kProbe:
      return probe_sent;
    case State::kReplicate:
      return inflights.full();
    case State::kSnapshot:
      return true;
  }
  return true;
}

const char* Progress::state_name() const {
  switch (state) {
    case State::kProbe:
      return "probe";
    case State::kReplicate:
      return "replicate";
    case State::kSnapshot:
      return "snapshot";
  }
  return "";
}

}  // namespace raftlock::raft
