#include "tests/sim/sim_event_queue.h"

namespace raftlock::sim {

const char* event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::kTick:
      return "tick";
    case EventKind::kDeliver:
      return "deliver";
    case EventKind::kPersisted:
      return "persisted";
    case EventKind::kNemesis:
      return "nemesis";
    case EventKind::kClient:
      return "client";
    case EventKind::kHeal:
      return "heal";
    case EventKind::kProbe:
      return "probe";
    case EventKind::kDepose:
      return "depose";
    case EventKind::kRevive:
      return "revive";
    case EventKind::kCrash:
      return "crash";
    case EventKind::kRestart:
      return "restart";
  }
  return "?";
}

}  // namespace raftlock::sim
