#include "raft/send_queue.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "raft/assert.h"

namespace raftlock::raft {

namespace {
// The encoded size of a SnapshotChunk beyond its data (header and fixed fields).
constexpr std::size_t kChunkOverheadBytes = kFrameHeaderBytes + 64;
}  // namespace

SendQueue::SendQueue(SendQueueLimits limits) : limits_(limits) {
  RAFTLOCK_ASSERT(limits_.chunk_bytes > 0);
  RAFTLOCK_ASSERT(limits_.chunk_bytes + kChunkOverheadBytes <= limits_.codec.frame_bytes_max);
}

SendQueue::Pushed SendQueue::push(const Message& m, std::string* why) {
  if (m.type != MessageType::kSnapshot) {
    if (normal_.size() >= limits_.frames_max) return Pushed::kFull;
    Result<Bytes> frame = encode_message(m, limits_.codec);
    if (!frame) {
      if (why) *why = frame.status().to_string();
      return Pushed::kUnencodable;
    }
    if (frame->size() > limits_.bytes_max - std::min(bytes_, limits_.bytes_max)) {
      return Pushed::kFull;
    }
    bytes_ += frame->size();
    normal_.push_back(std::move(frame).value());
    return Pushed::kQueued;
  }
  if (snapshots() >= limits_.snapshots_max) return Pushed::kFull;
  if (m.snapshot.data.size() > limits_.snapshot_bytes_max) {
    if (why) {
      *why = "snapshot of " + std::to_string(m.snapshot.data.size()) +
             " bytes exceeds snapshot_bytes_max " + std::to_string(limits_.snapshot_bytes_max);
    }
    return Pushed::kUnencodable;
  }
  // The chunks always encode (their size is checked above); the message that
  // ends the transfer is encoded here without its data to find out early.
  Message copy = m;
  Bytes data = std::exchange(copy.snapshot.data, Bytes());
  if (Result<Bytes> tail = encode_message(copy, limits_.codec); !tail) {
    if (why) *why = tail.status().to_string();
    return Pushed::kUnencodable;
  }
  copy.snapshot.data = std::move(data);
  waiting_.push_back(std::move(copy));
  return Pushed::kQueued;
}

std::size_t SendQueue::take_batch(std::vector<Bytes>& out) {
  std::size_t taken = normal_.size();
  for (Bytes& frame : normal_)
    out.push_back(std::move(frame));
  normal_.clear();
  bytes_ = 0;
  if (sending_.empty() && !waiting_.empty()) {
    std::vector<Frame> frames = split_snapshot(std::move(waiting_.front()), limits_.chunk_bytes);
    waiting_.pop_front();
    sending_.assign(std::make_move_iterator(frames.begin()), std::make_move_iterator(frames.end()));
  }
  if (!sending_.empty()) {
    Result<Bytes> frame = encode_frame(sending_.front(), limits_.codec);
    RAFTLOCK_ASSERT_MSG(frame.is_ok(), frame.status().to_string().c_str());  // checked in push
    sending_.pop_front();
    out.push_back(std::move(frame).value());
    ++taken;
  }
  return taken;
}

bool SendQueue::drop_partial_snapshot() {
  if (sending_.empty()) return false;
  sending_.clear();
  return true;
}

}  // namespace raftlock::raft
