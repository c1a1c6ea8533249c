// The bounded send queue of one peer of the TCP transport, in two lanes, so
// that a large snapshot never stalls the messages behind it (no head-of-line
// blocking):
//   - the normal lane: every message but kSnapshot, encoded at push time, in
//     order, bounded by a count and a byte limit;
//   - the snapshot lane: kSnapshot messages, bounded by a count, sent in chunks
//     (split_snapshot, codec.h) that are encoded one at a time as they leave.
// Each write takes the whole normal lane and then at most one frame of the
// snapshot lane, so heartbeats and appends interleave with a transfer. A
// kSnapshot message may thus arrive after messages queued after it; Raft
// tolerates reordering, and the chunks of one snapshot stay in order.
// Pure data structure: no sockets, no clocks.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "raft/codec.h"
#include "raft/types.h"

namespace raftlock::raft {

struct SendQueueLimits {
  std::size_t frames_max = 4096;      // normal lane
  std::size_t bytes_max = 64u << 20;  // normal lane, encoded bytes
  std::size_t snapshots_max = 2;      // snapshot lane, including one being sent
  std::size_t chunk_bytes = 256u << 10;
  std::uint64_t snapshot_bytes_max = kSnapshotBytesMax;
  CodecLimits codec;  // REQUIRES: a chunk of chunk_bytes fits in codec.frame_bytes_max
};

class SendQueue {
 public:
  enum class Pushed { kQueued, kFull, kUnencodable };

  explicit SendQueue(SendQueueLimits limits);

  // Queues `m` on its lane. kFull (nothing queued: the newest is dropped) when
  // a limit would be exceeded; kUnencodable, with the codec's reason in *why,
  // when the codec refuses the message.
  Pushed push(const Message& m, std::string* why = nullptr);

  // Appends to `out` the frames of the next write: the whole normal lane, then
  // at most one frame of the snapshot lane. Returns how many it appended.
  std::size_t take_batch(std::vector<Bytes>& out);

  // After the connection closed: a snapshot whose chunks were partly sent
  // cannot be finished on another connection (the receiver reassembles per
  // connection), so its remaining frames are dropped. True if there was one.
  bool drop_partial_snapshot();

  bool empty() const { return normal_.empty() && sending_.empty() && waiting_.empty(); }
  std::size_t frames() const { return normal_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t snapshots() const { return waiting_.size() + (sending_.empty() ? 0 : 1); }

 private:
  SendQueueLimits limits_;
  std::deque<Bytes> normal_;
  std::size_t bytes_ = 0;        // encoded bytes in normal_
  std::deque<Message> waiting_;  // kSnapshot messages not started
  std::deque<Frame> sending_;    // what is left of the snapshot being sent
};

}  // namespace raftlock::raft
