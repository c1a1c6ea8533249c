#include "service/allocator.h"

#include <cstdio>

#ifdef RAFTLOCK_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#else
#include <malloc.h>
#endif

namespace raftlock::service {

const char* set_up_allocator() {
#ifdef RAFTLOCK_TCMALLOC
  // Free spans go back to the system when freed rather than in batches, so a
  // burst (a snapshot image, a large batch) does not stay resident.
  if (!MallocExtension_SetNumericProperty("tcmalloc.aggressive_memory_decommit", 1)) {
    std::fprintf(stderr, "raftlockd: tcmalloc refused aggressive_memory_decommit\n");
  }
  return "tcmalloc";
#else
  // Buffers of 256 KiB and more (snapshot images, their chunks, large
  // batches) come from mmap and go back to the system when freed. glibc would
  // otherwise raise this threshold after the first large free and keep such
  // transient peaks in the heap for good.
  // Fixing that threshold also fixes the trim threshold: keep up to 16 MiB
  // free at the top of the heap rather than shrinking it after every burst.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
  return "glibc";
#endif
}

}  // namespace raftlock::service
