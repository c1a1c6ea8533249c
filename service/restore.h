// Building a data dir from a backup (docs/operations.md, "Restore").
#pragma once

#include <string>

#include "raft/result.h"
#include "service/options.h"

namespace raftlock::service {

// Creates o.data_dir/raftlock.db from the backup file o.restore_from. The
// data dir must hold no database yet. Two kinds:
//
// - o.join: a new member seeded from the backup. The file is copied as it is
//   (log, snapshot, state); the node then starts with --join and, once added
//   with POST /v1/cluster/members, only fetches what came after the backup.
//   o.id must not be a member in the backup: a node that reappears under its
//   old id with an older log could forget votes and entries it acknowledged.
//
// - otherwise: a new cluster of one voter, o.id, holding the backup's state.
//   The state machine at the backup's applied index becomes a snapshot at
//   index max(applied, last log index) + o.restore_index_gap, with the member
//   list reduced to this node (peer address from --initial-cluster, else
//   --listen-peer). Entries after the applied index (not yet applied on the
//   backed-up node) are dropped. New grants then take fencing tokens above
//   that index; the gap keeps them above the tokens the lost cluster granted
//   after the backup, as long as it committed fewer than gap entries since.
//
// Returns a one-line summary of what was restored.
Result<std::string> restore_data_dir(const DaemonOptions& o);

}  // namespace raftlock::service
