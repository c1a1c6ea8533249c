// The binary wire codec of the peer protocol: the frames raftlockd nodes
// exchange over TCP — Raft messages, the connection handshake and the chunks of
// a snapshot transfer. Pure encode/decode: no sockets, clocks or threads, so the
// transport, the unit tests and the fuzzers drive it the same way.
//
// docs/protocol.md documents every byte. In short, a frame is a 16-byte header
//   magic "RLCK" | version u8 | type u8 | flags u16 | payload length u32 | CRC-32C u32
// followed by the payload, whose first byte repeats the type (so that the CRC
// covers it). Integers are big-endian.
//
// Decoding trusts nothing: every length is checked against its limit and
// against the bytes that remain before anything is allocated for it, every enum
// against its range, and a frame is returned only once all of it has passed
// every check. Every decoding failure is ErrorCode::kCorruption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "raft/result.h"
#include "raft/types.h"

namespace raftlock::raft {

inline constexpr char kFrameMagic[4] = {'R', 'L', 'C', 'K'};
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 16;
// No flag is defined in version 1: every bit of the flags field must be zero.
inline constexpr std::uint16_t kFrameFlagsKnown = 0;

// Defaults of CodecLimits, and fixed limits of the handshake strings.
inline constexpr std::uint32_t kFrameBytesMax = 64u << 20;  // header + payload
inline constexpr std::uint32_t kEntriesPerMessageMax = 65536;
inline constexpr std::uint32_t kMembersMax = 1024;  // voters, and learners, of a snapshot
inline constexpr std::uint32_t kContextBytesMax = 64 * 1024;
inline constexpr std::size_t kClusterNameBytesMax = 255;
inline constexpr std::size_t kAddressBytesMax = 255;
inline constexpr std::size_t kReasonBytesMax = 1024;
// A reassembled snapshot (SnapshotAssembler), and the default chunk size.
inline constexpr std::uint64_t kSnapshotBytesMax = 1ull << 30;
inline constexpr std::size_t kSnapshotChunkBytes = 1u << 20;

// Both ends must use limits at least as large as the sender's, or frames the
// sender accepted are refused by the receiver (and the connection closes).
struct CodecLimits {
  std::uint32_t frame_bytes_max = kFrameBytesMax;  // REQUIRES: > kFrameHeaderBytes
  std::uint32_t entries_per_message_max = kEntriesPerMessageMax;
  std::uint32_t members_max = kMembersMax;
  std::uint32_t context_bytes_max = kContextBytesMax;
};

// The values 1..13 are the MessageType values: those frames carry a Message.
enum class FrameType : std::uint8_t {
  kVote = 1,
  kVoteResp = 2,
  kPreVote = 3,
  kPreVoteResp = 4,
  kAppend = 5,
  kAppendResp = 6,
  kHeartbeat = 7,
  kHeartbeatResp = 8,
  kSnapshot = 9,
  kTimeoutNow = 10,
  kPropose = 11,
  kReadIndex = 12,
  kReadIndexResp = 13,
  kHandshake = 64,
  kHandshakeResponse = 65,
  kSnapshotChunk = 66,
};

const char* frame_type_name(FrameType t);
bool is_known_frame_type(std::uint8_t t);

struct FrameHeader {
  std::uint8_t version = kProtocolVersion;
  FrameType type = FrameType::kHeartbeat;
  std::uint16_t flags = 0;
  std::uint32_t payload_bytes = 0;
  std::uint32_t payload_crc = 0;  // CRC-32C (Castagnoli) of the payload
};

// The first frame each side of a connection sends. The receiver checks the
// cluster name and that `receiver` is its own id, answers with a
// HandshakeResponse, and closes the connection if it refused.
struct Handshake {
  std::string cluster;  // at most kClusterNameBytesMax bytes
  NodeId sender = kNoNode;
  NodeId receiver = kNoNode;
  std::uint8_t protocol_version = kProtocolVersion;  // highest the sender speaks; >= 1
  std::string http_address;  // the sender's advertised "host:port"; <= kAddressBytesMax bytes
  // The "host:port" the sender accepts peer connections on, so that a receiver
  // that does not know the sender yet (a node that just joined) can reply;
  // <= kAddressBytesMax bytes, empty if not advertised.
  std::string peer_address;
  bool operator==(const Handshake&) const = default;
};

struct HandshakeResponse {
  bool accepted = false;
  std::string reason;  // why not, when refused; at most kReasonBytesMax bytes
  bool operator==(const HandshakeResponse&) const = default;
};

// One piece of the data of a kSnapshot message sent in chunks (split_snapshot).
// Invariants, checked on both ends: offset + data.size() <= total, and
// last == (offset + data.size() == total).
struct SnapshotChunk {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;    // the kSnapshot message's term
  Index index = 0;  // its snapshot.meta.index
  std::uint64_t offset = 0;
  std::uint64_t total = 0;  // size of the whole snapshot.data
  bool last = false;
  Bytes data;
  bool operator==(const SnapshotChunk&) const = default;
};

using Frame = std::variant<Message, Handshake, HandshakeResponse, SnapshotChunk>;

FrameType frame_type(const Frame& f);

// CRC-32C (Castagnoli, as in iSCSI and ext4): the CPU's crc32 instruction
// where it has one (SSE 4.2), else Boost.CRC (crc32c.cc).
std::uint32_t crc32c(std::string_view data);
// The table-driven Boost.CRC computation alone (the reference in tests).
std::uint32_t crc32c_portable(std::string_view data);

// Checks the 16 bytes of a header: magic, version, type, flags, and that the
// frame fits in limits.frame_bytes_max. REQUIRES: header.size() == kFrameHeaderBytes.
Result<FrameHeader> decode_frame_header(std::string_view header, const CodecLimits& limits = {});

// The whole frame, header included. Refuses what the decoder would refuse:
// kLimitExceeded when a limit is exceeded, kInvalidArgument for values out of
// range (an enum, node 0 in a configuration, an inconsistent chunk). So every
// encoded frame decodes back to an equal value.
Result<Bytes> encode_frame(const Frame& f, const CodecLimits& limits = {});
Result<Bytes> encode_message(const Message& m, const CodecLimits& limits = {});

// Incremental decoder of one connection's byte stream.
//
// feed() checks each frame header as soon as its 16 bytes are in, before it
// buffers any of that frame's payload, and stops buffering at the first bad
// header. next() returns the complete frames in order. After the first error
// the decoder is failed for good: next() returns that error on every call and
// feed() discards its input; the connection is to be closed.
class FrameDecoder {
 public:
  explicit FrameDecoder(CodecLimits limits = {});

  void feed(const char* data, std::size_t size);
  void feed(std::string_view data) { feed(data.data(), data.size()); }

  // The next complete frame; nullopt when more bytes are needed; kCorruption
  // with what failed if the stream is bad.
  Result<std::optional<Frame>> next();

  bool failed() const { return failed_; }
  std::size_t buffered_bytes() const { return buf_.size() - pos_; }

 private:
  void fail(Status s);

  CodecLimits limits_;
  std::string buf_;
  std::size_t pos_ = 0;        // start of the first frame next() has not returned
  std::size_t scan_ = 0;       // start of the first frame whose header feed() has not checked
  std::size_t scan_end_ = 0;   // end of the frame at scan_, once its header is checked
  bool input_failed_ = false;  // feed() found a bad header at scan_
  bool failed_ = false;        // next() has reported an error
  Status error_;
};

// Splits a kSnapshot message for chunked transfer (InstallSnapshot, §7):
// SnapshotChunk frames carrying snapshot.data in order, `chunk_bytes` each
// (at least one chunk, the last possibly shorter), followed by the message
// itself with empty data. Send them in this order on one connection; other
// frames may be interleaved. Takes `m` by value: move it in to avoid copying
// the data. REQUIRES: m.type == kSnapshot, chunk_bytes > 0.
std::vector<Frame> split_snapshot(Message m, std::size_t chunk_bytes = kSnapshotChunkBytes);

// The receiving side of split_snapshot, one per connection.
class SnapshotAssembler {
 public:
  explicit SnapshotAssembler(std::uint64_t snapshot_bytes_max = kSnapshotBytesMax)
      : snapshot_bytes_max_(snapshot_bytes_max) {}

  // Takes the next chunk. A chunk at offset 0 begins a new transfer and
  // abandons any other; a later chunk must continue the transfer in progress
  // (same from, to, term, index and total; offset = bytes received so far).
  // kCorruption if it does not, kLimitExceeded if total > snapshot_bytes_max;
  // after an error no transfer is in progress.
  Status add(SnapshotChunk chunk);

  // Completes a transfer with its kSnapshot message. With no transfer in
  // progress (a message sent whole, or not a kSnapshot), returns `m` as it is.
  // Otherwise the last chunk must have arrived and `m` must have empty data and
  // the from, to, term and index of the chunks: returns `m` with the
  // reassembled data; kCorruption if not. The transfer ends either way.
  Result<Message> finish(Message m);

  bool in_progress() const { return active_; }

 private:
  std::uint64_t snapshot_bytes_max_;
  bool active_ = false;
  SnapshotChunk head_;  // from, to, term, index, total of the transfer; data unused
  Bytes data_;
  bool complete_ = false;
};

}  // namespace raftlock::raft
