// The allocator raftlockd runs on, set up once at start.
//
// Every request allocates and frees many small blocks (HTTP buffers, JSON
// values, commands, results). raftlockd is linked with tcmalloc (from
// gperftools; -DRAFTLOCK_TCMALLOC=OFF builds without it): its per-thread
// caches serve those blocks with far less work than glibc's malloc
// (docs/service.md, measured in docs/bench.md). Set up
// to hand freed pages back to the system at once, so that what the process
// holds follows what it uses (the memory budget of docs/operations.md).
// Without tcmalloc, glibc's malloc is tuned for the same goal.
#pragma once

namespace raftlock::service {

// Call before anything is allocated in earnest. Returns the allocator's name;
// a setting the allocator refused is reported on stderr.
const char* set_up_allocator();

}  // namespace raftlock::service
