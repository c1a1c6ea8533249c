#include "storage/wal_prealloc.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <sqlite3.h>

namespace raftlock::storage {

namespace {

Status io_error(const std::string& what, const std::string& path) {
  return Status(ErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status preallocate_wal(const std::string& wal_path, std::uint64_t bytes) {
  const std::string& path = wal_path;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::ok() : io_error("open", path);
  struct stat st {};
  Status s = ::fstat(fd, &st) == 0 ? Status::ok() : io_error("stat", path);
  std::uint64_t size = s ? static_cast<std::uint64_t>(st.st_size) : bytes;
  if (size < bytes) {
    const std::vector<char> zeros(1 << 20, 0);
    while (s && size < bytes) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), bytes - size));
      const ssize_t w = ::pwrite(fd, zeros.data(), n, static_cast<off_t>(size));
      if (w <= 0) {
        s = io_error("write zeros to", path);
        break;
      }
      size += static_cast<std::uint64_t>(w);
    }
    if (s && ::fsync(fd) != 0) s = io_error("fsync", path);
  }
  ::close(fd);
  return s;
}

Status keep_wal_on_close(Database& db) {
  int on = 1;
  const int rc = sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_PERSIST_WAL, &on);
  if (rc != SQLITE_OK) {
    return Status(ErrorCode::kIo, "keep the WAL of " + db.path() + ": " + sqlite3_errstr(rc));
  }
  return Status::ok();
}

}  // namespace raftlock::storage
