#include "storage/wal_syncer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace raftlock::storage {

Result<std::shared_ptr<WalSyncer>> WalSyncer::open(const std::string& wal_path) {
  std::string path = wal_path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Result<std::shared_ptr<WalSyncer>>(
        ErrorCode::kIo, "open " + path + " to sync it: " + std::strerror(errno));
  }
  return std::shared_ptr<WalSyncer>(new WalSyncer(fd, std::move(path)));
}

WalSyncer::~WalSyncer() {
  ::close(fd_);
}

void WalSyncer::start() noexcept {
#if defined(__linux__)
  // SYNC_FILE_RANGE_WRITE queues the file's dirty pages for writing and
  // returns. It waits for nothing, so it consumes no write-back error of this
  // descriptor: a failed write is still reported by the fdatasync of sync().
  // Never add a SYNC_FILE_RANGE_WAIT_* flag here while the result is ignored:
  // the error would be reported here and lost, and that fdatasync would then
  // succeed without the data. Where the file system does nothing with it
  // (tmpfs, some network or overlay file systems), sync() does all the work.
  (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
}

Status WalSyncer::sync() {
  // No retry after a failure (STYLE.md): the kernel may have dropped the dirty
  // pages it could not write, so a second fdatasync could succeed and still
  // leave the commits lost. The caller stops the node.
  if (::fdatasync(fd_) != 0) {
    return Status(ErrorCode::kIo, "fdatasync " + path_ + ": " + std::strerror(errno));
  }
  // A file without a name is not the WAL SQLite writes any more: syncing it
  // would make nothing durable.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Status(ErrorCode::kIo, "stat " + path_ + ": " + std::strerror(errno));
  }
  if (st.st_nlink == 0) return Status(ErrorCode::kIo, path_ + " was unlinked while in use");
  return Status::ok();
}

}  // namespace raftlock::storage
