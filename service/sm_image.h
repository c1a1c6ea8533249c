// The state machine's snapshot image: every row of its tables, one JSON array
// per line, so building and restoring a large state (100,000 locks) never
// holds the whole image as a JSON document:
//   {"format":"raftlock-sm","version":1,"applied":N}
//   ["sm_locks","l/db","{...}"]
//   ["sm_sessions","0123456789abcdef","worker",10000,0,12,40]
//   ...
#pragma once

#include <string>

#include "raft/result.h"
#include "raft/types.h"
#include "storage/database.h"

namespace raftlock::service {

// Reads the tables through `db` (inside the caller's read transaction).
// `size_hint`, the expected size (e.g. the previous image's), is reserved up
// front: growing a large image by doubling holds up to three times its size.
raft::Bytes build_sm_image(storage::Database& db, raft::Index applied, std::size_t size_hint = 0);
// Replaces the tables' rows with the image's (inside the caller's write
// transaction). kCorruption if the image is malformed.
Status restore_sm_image(storage::Database& db, const raft::Bytes& image);

}  // namespace raftlock::service
