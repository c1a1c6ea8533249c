// The decoding side of the codec (raft/codec.h): a bounds-checked reader of
// big-endian fields, the parsers of each frame payload, decode_payload and
// decode_frame_header.
#include "raft/codec.h"

#include <boost/endian/conversion.hpp>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <type_traits>

#include "raft/assert.h"
#include "raft/codec_internal.h"

namespace raftlock::raft {

using codec_detail::corrupt;
using codec_detail::hex;
using codec_detail::is_message_type;
using codec_detail::kEntryFixedBytes;
using codec_detail::kLastEntryType;

// The layouts below are documented byte by byte in docs/protocol.md; keep both
// in step.
namespace {

// Reads big-endian fields from a payload. The first failure sticks: later
// reads return zero/empty and read nothing, so a parser checks ok() once at the
// end (and inside loops, to stop early).
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t pos() const { return pos_; }

  template <typename T>
  T get(const char* what) {
    static_assert(std::is_unsigned_v<T>);
    if (!ok()) return 0;
    if (remaining() < sizeof(T)) {
      fail(std::string("truncated ") + what, pos_);
      return 0;
    }
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(v));
    pos_ += sizeof(v);
    return boost::endian::big_to_native(v);
  }

  bool get_bool(const char* what) {
    const std::size_t at = pos_;
    const auto v = get<std::uint8_t>(what);
    if (v > 1) fail(std::string(what) + " is " + std::to_string(v) + ", not 0 or 1", at);
    return v == 1;
  }

  // A length of type Len, then that many bytes. The length is checked against
  // `max` and against the bytes left before anything is allocated.
  template <typename Len>
  Bytes get_bytes(const char* what, std::uint64_t max) {
    const std::size_t at = pos_;
    const Len n = get<Len>(what);
    if (!ok()) return {};
    if (n > max) {
      fail(std::string(what) + " length " + std::to_string(n) + " exceeds the limit " +
               std::to_string(max),
           at);
      return {};
    }
    if (n > remaining()) {
      fail(std::string(what) + " length " + std::to_string(n) + " exceeds the " +
               std::to_string(remaining()) + " bytes left",
           at);
      return {};
    }
    Bytes out(data_.substr(pos_, n));
    pos_ += n;
    return out;
  }

  // A u32 count of items that take at least `item_bytes` each.
  std::uint32_t get_count(const char* what, std::uint32_t max, std::size_t item_bytes) {
    const std::size_t at = pos_;
    const auto n = get<std::uint32_t>(what);
    if (n > max) {
      fail(
          std::string(what) + " " + std::to_string(n) + " exceeds the limit " + std::to_string(max),
          at);
      return 0;
    }
    if (n > remaining() / item_bytes) {
      fail(std::string(what) + " " + std::to_string(n) + " exceeds the " +
               std::to_string(remaining()) + " bytes left",
           at);
      return 0;
    }
    return n;
  }

  void expect_end() {
    if (ok() && remaining() != 0) fail(std::to_string(remaining()) + " trailing bytes", pos_);
  }

  void fail(const std::string& why, std::size_t at) {
    if (ok()) error_ = why + " at payload offset " + std::to_string(at);
    pos_ = data_.size();
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::string error_;
};

std::set<NodeId> get_members(Reader& r, const char* what, const CodecLimits& limits) {
  std::set<NodeId> ids;
  const std::uint32_t n = r.get_count(what, limits.members_max, sizeof(NodeId));
  NodeId prev = kNoNode;
  for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
    const std::size_t at = r.pos();
    const auto id = r.get<std::uint64_t>(what);
    if (id == kNoNode) {
      r.fail(std::string(what) + " contain node 0", at);
    } else if (id <= prev) {
      r.fail(std::string(what) + " not strictly ascending", at);
    } else {
      ids.insert(ids.end(), id);
      prev = id;
    }
  }
  return ids;
}

Message get_message(Reader& r, MessageType type, const CodecLimits& limits) {
  Message m;
  m.type = type;
  m.from = r.get<std::uint64_t>("from");
  m.to = r.get<std::uint64_t>("to");
  m.term = r.get<std::uint64_t>("term");
  m.log_term = r.get<std::uint64_t>("log_term");
  m.index = r.get<std::uint64_t>("index");
  m.commit = r.get<std::uint64_t>("commit");
  m.reject = r.get_bool("reject");
  m.reject_hint = r.get<std::uint64_t>("reject_hint");
  m.hint_term = r.get<std::uint64_t>("hint_term");
  const std::uint32_t n =
      r.get_count("entry count", limits.entries_per_message_max, kEntryFixedBytes);
  m.entries.reserve(n);  // n <= bytes left / kEntryFixedBytes
  for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
    Entry& e = m.entries.emplace_back();
    e.term = r.get<std::uint64_t>("entry term");
    e.index = r.get<std::uint64_t>("entry index");
    const std::size_t at = r.pos();
    const auto t = r.get<std::uint8_t>("entry type");
    if (t > kLastEntryType) r.fail("entry type " + std::to_string(t) + " unknown", at);
    e.type = static_cast<EntryType>(t);
    e.data = r.get_bytes<std::uint32_t>("entry data", std::numeric_limits<std::uint32_t>::max());
  }
  m.snapshot.meta.index = r.get<std::uint64_t>("snapshot index");
  m.snapshot.meta.term = r.get<std::uint64_t>("snapshot term");
  m.snapshot.meta.conf.voters = get_members(r, "voters", limits);
  m.snapshot.meta.conf.learners = get_members(r, "learners", limits);
  m.snapshot.data =
      r.get_bytes<std::uint32_t>("snapshot data", std::numeric_limits<std::uint32_t>::max());
  m.context = r.get_bytes<std::uint32_t>("context", limits.context_bytes_max);
  return m;
}

Handshake get_handshake(Reader& r) {
  Handshake h;
  h.cluster = r.get_bytes<std::uint16_t>("cluster name", kClusterNameBytesMax);
  h.sender = r.get<std::uint64_t>("sender");
  h.receiver = r.get<std::uint64_t>("receiver");
  const std::size_t at = r.pos();
  h.protocol_version = r.get<std::uint8_t>("protocol version");
  if (r.ok() && h.protocol_version == 0) r.fail("protocol version 0", at);
  h.http_address = r.get_bytes<std::uint16_t>("http address", kAddressBytesMax);
  h.peer_address = r.get_bytes<std::uint16_t>("peer address", kAddressBytesMax);
  return h;
}

HandshakeResponse get_handshake_response(Reader& r) {
  HandshakeResponse resp;
  resp.accepted = r.get_bool("accepted");
  resp.reason = r.get_bytes<std::uint16_t>("reason", kReasonBytesMax);
  return resp;
}

SnapshotChunk get_snapshot_chunk(Reader& r) {
  SnapshotChunk c;
  c.from = r.get<std::uint64_t>("from");
  c.to = r.get<std::uint64_t>("to");
  c.term = r.get<std::uint64_t>("term");
  c.index = r.get<std::uint64_t>("snapshot index");
  const std::size_t at = r.pos();
  c.offset = r.get<std::uint64_t>("offset");
  c.total = r.get<std::uint64_t>("total");
  if (r.ok() && c.offset > c.total) {
    r.fail("offset " + std::to_string(c.offset) + " beyond total " + std::to_string(c.total), at);
  }
  c.last = r.get_bool("last");
  c.data = r.get_bytes<std::uint32_t>("chunk data", c.total - c.offset);
  if (r.ok() && c.last != (c.offset + c.data.size() == c.total)) {
    r.fail(
        c.last ? "chunk marked last does not reach total" : "chunk reaching total not marked last",
        at);
  }
  return c;
}

}  // namespace

namespace codec_detail {

// REQUIRES: the header passed decode_frame_header and the payload its CRC.
Result<Frame> decode_payload(const FrameHeader& h, std::string_view payload,
                             const CodecLimits& limits) {
  Reader r(payload);
  const auto echo = r.get<std::uint8_t>("type byte");
  if (r.ok() && echo != static_cast<std::uint8_t>(h.type)) {
    r.fail("type byte " + std::to_string(echo) + " differs from the header's", 0);
  }
  Frame f;
  switch (h.type) {
    case FrameType::kHandshake:
      f = get_handshake(r);
      break;
    case FrameType::kHandshakeResponse:
      f = get_handshake_response(r);
      break;
    case FrameType::kSnapshotChunk:
      f = get_snapshot_chunk(r);
      break;
    default:
      RAFTLOCK_ASSERT(is_message_type(static_cast<std::uint8_t>(h.type)));
      f = get_message(r, static_cast<MessageType>(h.type), limits);
      break;
  }
  r.expect_end();
  if (!r.ok()) return corrupt(std::string(frame_type_name(h.type)) + " frame: " + r.error());
  return f;
}

}  // namespace codec_detail

Result<FrameHeader> decode_frame_header(std::string_view header, const CodecLimits& limits) {
  RAFTLOCK_ASSERT(header.size() == kFrameHeaderBytes);
  RAFTLOCK_ASSERT(limits.frame_bytes_max > kFrameHeaderBytes);
  if (std::memcmp(header.data(), kFrameMagic, sizeof(kFrameMagic)) != 0) {
    std::uint32_t magic;
    std::memcpy(&magic, header.data(), sizeof(magic));
    return corrupt("frame header: bad magic " + hex(boost::endian::big_to_native(magic)) +
                   ", not \"RLCK\"");
  }
  Reader r(header.substr(sizeof(kFrameMagic)));
  FrameHeader h;
  h.version = r.get<std::uint8_t>("version");
  const auto type = r.get<std::uint8_t>("type");
  h.flags = r.get<std::uint16_t>("flags");
  h.payload_bytes = r.get<std::uint32_t>("payload length");
  h.payload_crc = r.get<std::uint32_t>("payload crc");
  RAFTLOCK_ASSERT(r.ok() && r.remaining() == 0);
  if (h.version != kProtocolVersion) {
    return corrupt("frame header: protocol version " + std::to_string(h.version) +
                   " unsupported (this node speaks " + std::to_string(kProtocolVersion) + ")");
  }
  if (!is_known_frame_type(type)) {
    return corrupt("frame header: unknown frame type " + std::to_string(type));
  }
  h.type = static_cast<FrameType>(type);
  if ((h.flags & ~kFrameFlagsKnown) != 0) {
    return corrupt("frame header: unknown flags " + hex(h.flags & ~kFrameFlagsKnown));
  }
  if (h.payload_bytes > limits.frame_bytes_max - kFrameHeaderBytes) {
    return corrupt("frame header: " + std::string(frame_type_name(h.type)) + " payload length " +
                   std::to_string(h.payload_bytes) + " exceeds the limit " +
                   std::to_string(limits.frame_bytes_max - kFrameHeaderBytes) +
                   " (frame_bytes_max " + std::to_string(limits.frame_bytes_max) + ")");
  }
  return h;
}

}  // namespace raftlock::raft
