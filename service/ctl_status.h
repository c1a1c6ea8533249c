// raftlockctl status (ctl_status.cc).
#pragma once

#include "service/ctl_commands.h"

namespace raftlock::service {

// The answering node's Raft status, or with `cluster` every member's.
// Exit code: 0, 1 (refused), 77 (a member did not answer).
int ctl_status(CtlContext& ctx, bool cluster);

}  // namespace raftlock::service
