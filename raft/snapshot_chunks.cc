#include "raft/codec.h"
#include "raft/codec_internal.h"

#include <algorithm>
#include <boost/crc.hpp>
#include <boost/endian/conversion.hpp>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "raft/assert.h"

namespace raftlock::raft {

using codec_detail::corrupt;
using codec_detail::too_big;

// ---- chunked snapshots ----

std::vector<Frame> split_snapshot(Message m, std::size_t chunk_bytes) {
  RAFTLOCK_ASSERT(m.type == MessageType::kSnapshot);
  RAFTLOCK_ASSERT(chunk_bytes > 0);
  const Bytes data = std::exchange(m.snapshot.data, Bytes());
  std::vector<Frame> frames;
  frames.reserve(data.size() / chunk_bytes + 2);
  std::uint64_t offset = 0;
  do {
    const std::size_t n = std::min<std::uint64_t>(chunk_bytes, data.size() - offset);
    frames.emplace_back(SnapshotChunk{.from = m.from,
                                      .to = m.to,
                                      .term = m.term,
                                      .index = m.snapshot.meta.index,
                                      .offset = offset,
                                      .total = data.size(),
                                      .last = offset + n == data.size(),
                                      .data = data.substr(offset, n)});
    offset += n;
  } while (offset < data.size());
  frames.emplace_back(std::move(m));  // the message, now without its data
  return frames;
}

Status SnapshotAssembler::add(SnapshotChunk c) {
  auto describe = [](const SnapshotChunk& x) {
    return "(from " + std::to_string(x.from) + ", to " + std::to_string(x.to) + ", term " +
           std::to_string(x.term) + ", index " + std::to_string(x.index) + ", total " +
           std::to_string(x.total) + ")";
  };
  if (c.offset == 0) {
    active_ = complete_ = false;
    Bytes().swap(data_);
    if (c.total > snapshot_bytes_max_) {
      return too_big("snapshot transfer of " + std::to_string(c.total) +
                     " bytes exceeds the limit " + std::to_string(snapshot_bytes_max_));
    }
    head_ = c;
    head_.data.clear();
    active_ = true;
  } else if (!active_ || complete_ || c.from != head_.from || c.to != head_.to ||
             c.term != head_.term || c.index != head_.index || c.total != head_.total ||
             c.offset != data_.size()) {
    const std::string what =
        "snapshot chunk at offset " + std::to_string(c.offset) + " " + describe(c) +
        " does not continue " +
        (active_ ? "the transfer " + describe(head_) + " at offset " + std::to_string(data_.size())
                 : std::string("any transfer"));
    active_ = complete_ = false;
    Bytes().swap(data_);
    return corrupt(what);
  }
  // The decoder checked these; chunks built elsewhere may not have been.
  if (c.data.size() > c.total - c.offset || c.last != (c.offset + c.data.size() == c.total)) {
    active_ = complete_ = false;
    Bytes().swap(data_);
    return corrupt("snapshot chunk at offset " + std::to_string(c.offset) + " " + describe(c) +
                   " is inconsistent");
  }
  data_.append(c.data);
  complete_ = c.last;
  return Status::ok();
}

Result<Message> SnapshotAssembler::finish(Message m) {
  if (m.type != MessageType::kSnapshot || !active_) return m;
  const bool matches = complete_ && m.snapshot.data.empty() && m.from == head_.from &&
                       m.to == head_.to && m.term == head_.term &&
                       m.snapshot.meta.index == head_.index;
  active_ = false;
  if (!matches) {
    const std::string what =
        "snapshot message (from " + std::to_string(m.from) + ", term " + std::to_string(m.term) +
        ", index " + std::to_string(m.snapshot.meta.index) + ", " +
        std::to_string(m.snapshot.data.size()) + " data bytes) does not complete the transfer " +
        "(from " + std::to_string(head_.from) + ", term " + std::to_string(head_.term) +
        ", index " + std::to_string(head_.index) + ", " + std::to_string(data_.size()) + " of " +
        std::to_string(head_.total) + " bytes)";
    complete_ = false;
    Bytes().swap(data_);
    return corrupt(what);
  }
  complete_ = false;
  m.snapshot.data = std::move(data_);
  data_ = Bytes();
  return m;
}

}  // namespace raftlock::raft
