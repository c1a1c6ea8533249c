#include "raft/codec.h"

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "raft/assert.h"
#include "raft/codec_internal.h"

namespace raftlock::raft {

using codec_detail::corrupt;
using codec_detail::hex;
using codec_detail::too_big;

// The layouts below are documented byte by byte in docs/protocol.md; keep both
// in step. Every payload starts with a copy of the frame type, so that the
// CRC-32C of the payload also protects the type byte of the header.
namespace {

// Smallest encodings, used to bound counts by the bytes left before allocating.
constexpr std::size_t kEntryFixedBytes = 8 + 8 + 1 + 4;  // term, index, type, data length
constexpr std::size_t kMessageFixedBytes = 1 + 6 * 8 + 1 + 2 * 8 + 4 + (8 + 8 + 4 + 4 + 4) + 4;
constexpr std::size_t kHandshakeFixedBytes = 1 + 2 + 8 + 8 + 1 + 2 + 2;
constexpr std::size_t kHandshakeResponseFixedBytes = 1 + 1 + 2;
constexpr std::size_t kSnapshotChunkFixedBytes = 1 + 6 * 8 + 1 + 4;

constexpr std::uint8_t kFirstMessageType = static_cast<std::uint8_t>(MessageType::kVote);
constexpr std::uint8_t kLastMessageType = static_cast<std::uint8_t>(MessageType::kReadIndexResp);
constexpr std::uint8_t kLastEntryType = static_cast<std::uint8_t>(EntryType::kConfChange);

bool is_message_type(std::uint8_t t) {
  return t >= kFirstMessageType && t <= kLastMessageType;
}

Status invalid(std::string what) {
  return Status(ErrorCode::kInvalidArgument, std::move(what));
}

// ---- encoding ----

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  template <typename T>
  void put(T v) {
    static_assert(std::is_unsigned_v<T>);
    boost::endian::native_to_big_inplace(v);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void put_bool(bool b) { put<std::uint8_t>(b ? 1 : 0); }

  // A length of type Len, then the bytes. The caller checked the size.
  template <typename Len>
  void put_bytes(std::string_view s) {
    RAFTLOCK_ASSERT(s.size() <= std::numeric_limits<Len>::max());
    put<Len>(static_cast<Len>(s.size()));
    out_.append(s);
  }

  void put_members(const std::set<NodeId>& ids) {
    put<std::uint32_t>(static_cast<std::uint32_t>(ids.size()));
    for (NodeId id : ids)
      put<std::uint64_t>(id);  // ascending: std::set order
  }

 private:
  Bytes& out_;
};

// Allocates the frame once, writes the type byte and `write`'s payload, then
// the header with the payload's length and CRC.
template <typename WritePayload>
Result<Bytes> build_frame(FrameType type, std::uint64_t payload_bytes, const CodecLimits& limits,
                          WritePayload write) {
  RAFTLOCK_ASSERT(limits.frame_bytes_max > kFrameHeaderBytes);
  if (payload_bytes > limits.frame_bytes_max - kFrameHeaderBytes) {
    return too_big(std::string(frame_type_name(type)) + " frame of " +
                   std::to_string(kFrameHeaderBytes + payload_bytes) +
                   " bytes exceeds frame_bytes_max " + std::to_string(limits.frame_bytes_max));
  }
  Bytes out;
  out.reserve(kFrameHeaderBytes + payload_bytes);
  out.append(kFrameHeaderBytes, '\0');
  Writer w(out);
  w.put<std::uint8_t>(static_cast<std::uint8_t>(type));
  write(w);
  RAFTLOCK_ASSERT(out.size() == kFrameHeaderBytes + payload_bytes);

  Bytes header(kFrameMagic, sizeof(kFrameMagic));
  Writer h(header);
  h.put<std::uint8_t>(kProtocolVersion);
  h.put<std::uint8_t>(static_cast<std::uint8_t>(type));
  h.put<std::uint16_t>(0);  // flags
  h.put<std::uint32_t>(static_cast<std::uint32_t>(payload_bytes));
  h.put<std::uint32_t>(crc32c(std::string_view(out).substr(kFrameHeaderBytes)));
  RAFTLOCK_ASSERT(header.size() == kFrameHeaderBytes);
  out.replace(0, kFrameHeaderBytes, header);
  return out;
}

Status check_members(const char* what, const std::set<NodeId>& ids, const CodecLimits& limits) {
  if (ids.size() > limits.members_max) {
    return too_big(std::string("snapshot ") + what + ": " + std::to_string(ids.size()) +
                   " exceed members_max " + std::to_string(limits.members_max));
  }
  if (!ids.empty() && *ids.begin() == kNoNode) {
    return invalid(std::string("snapshot ") + what + " contain node 0");
  }
  return Status::ok();
}

Result<Bytes> encode_message_frame(const Message& m, const CodecLimits& limits) {
  const auto type = static_cast<std::uint8_t>(m.type);
  if (!is_message_type(type)) return invalid("message type " + std::to_string(type) + " unknown");
  if (m.entries.size() > limits.entries_per_message_max) {
    return too_big(std::to_string(m.entries.size()) + " entries exceed entries_per_message_max " +
                   std::to_string(limits.entries_per_message_max));
  }
  if (m.context.size() > limits.context_bytes_max) {
    return too_big("context of " + std::to_string(m.context.size()) +
                   " bytes exceeds context_bytes_max " + std::to_string(limits.context_bytes_max));
  }
  const ConfState& conf = m.snapshot.meta.conf;
  if (Status s = check_members("voters", conf.voters, limits); !s) return s;
  if (Status s = check_members("learners", conf.learners, limits); !s) return s;

  std::uint64_t size = kMessageFixedBytes + m.context.size() + m.snapshot.data.size() +
                       8 * (conf.voters.size() + conf.learners.size());
  for (const Entry& e : m.entries) {
    if (static_cast<std::uint8_t>(e.type) > kLastEntryType) {
      return invalid("entry " + std::to_string(e.index) + " has unknown type " +
                     std::to_string(static_cast<unsigned>(e.type)));
    }
    size += kEntryFixedBytes + e.data.size();
  }
  return build_frame(static_cast<FrameType>(type), size, limits, [&](Writer& w) {
    w.put<std::uint64_t>(m.from);
    w.put<std::uint64_t>(m.to);
    w.put<std::uint64_t>(m.term);
    w.put<std::uint64_t>(m.log_term);
    w.put<std::uint64_t>(m.index);
    w.put<std::uint64_t>(m.commit);
    w.put_bool(m.reject);
    w.put<std::uint64_t>(m.reject_hint);
    w.put<std::uint64_t>(m.hint_term);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(m.entries.size()));
    for (const Entry& e : m.entries) {
      w.put<std::uint64_t>(e.term);
      w.put<std::uint64_t>(e.index);
      w.put<std::uint8_t>(static_cast<std::uint8_t>(e.type));
      w.put_bytes<std::uint32_t>(e.data);
    }
    w.put<std::uint64_t>(m.snapshot.meta.index);
    w.put<std::uint64_t>(m.snapshot.meta.term);
    w.put_members(conf.voters);
    w.put_members(conf.learners);
    w.put_bytes<std::uint32_t>(m.snapshot.data);
    w.put_bytes<std::uint32_t>(m.context);
  });
}

Result<Bytes> encode_handshake(const Handshake& h, const CodecLimits& limits) {
  if (h.cluster.size() > kClusterNameBytesMax) {
    return too_big("handshake cluster name of " + std::to_string(h.cluster.size()) +
                   " bytes exceeds " + std::to_string(kClusterNameBytesMax));
  }
  if (h.http_address.size() > kAddressBytesMax) {
    return too_big("handshake http address of " + std::to_string(h.http_address.size()) +
                   " bytes exceeds " + std::to_string(kAddressBytesMax));
  }
  if (h.peer_address.size() > kAddressBytesMax) {
    return too_big("handshake peer address of " + std::to_string(h.peer_address.size()) +
                   " bytes exceeds " + std::to_string(kAddressBytesMax));
  }
  if (h.protocol_version == 0) return invalid("handshake protocol version 0");
  const std::uint64_t size =
      kHandshakeFixedBytes + h.cluster.size() + h.http_address.size() + h.peer_address.size();
  return build_frame(FrameType::kHandshake, size, limits, [&](Writer& w) {
    w.put_bytes<std::uint16_t>(h.cluster);
    w.put<std::uint64_t>(h.sender);
    w.put<std::uint64_t>(h.receiver);
    w.put<std::uint8_t>(h.protocol_version);
    w.put_bytes<std::uint16_t>(h.http_address);
    w.put_bytes<std::uint16_t>(h.peer_address);
  });
}

Result<Bytes> encode_handshake_response(const HandshakeResponse& r, const CodecLimits& limits) {
  if (r.reason.size() > kReasonBytesMax) {
    return too_big("handshake reason of " + std::to_string(r.reason.size()) + " bytes exceeds " +
                   std::to_string(kReasonBytesMax));
  }
  const std::uint64_t size = kHandshakeResponseFixedBytes + r.reason.size();
  return build_frame(FrameType::kHandshakeResponse, size, limits, [&](Writer& w) {
    w.put_bool(r.accepted);
    w.put_bytes<std::uint16_t>(r.reason);
  });
}

Result<Bytes> encode_snapshot_chunk(const SnapshotChunk& c, const CodecLimits& limits) {
  if (c.offset > c.total || c.data.size() > c.total - c.offset ||
      c.last != (c.offset + c.data.size() == c.total)) {
    return invalid("snapshot chunk of " + std::to_string(c.data.size()) + " bytes at offset " +
                   std::to_string(c.offset) + " of " + std::to_string(c.total) +
                   (c.last ? ", marked last," : ", not marked last,") + " is inconsistent");
  }
  const std::uint64_t size = kSnapshotChunkFixedBytes + c.data.size();
  return build_frame(FrameType::kSnapshotChunk, size, limits, [&](Writer& w) {
    w.put<std::uint64_t>(c.from);
    w.put<std::uint64_t>(c.to);
    w.put<std::uint64_t>(c.term);
    w.put<std::uint64_t>(c.index);
    w.put<std::uint64_t>(c.offset);
    w.put<std::uint64_t>(c.total);
    w.put_bool(c.last);
    w.put_bytes<std::uint32_t>(c.data);
  });
}

// ---- decoding ----

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

Status corrupt(std::string what) {
  return Status(ErrorCode::kCorruption, std::move(what));
}
Status too_big(std::string what) {
  return Status(ErrorCode::kLimitExceeded, std::move(what));
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

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

const char* frame_type_name(FrameType t) {
  switch (t) {
    case FrameType::kHandshake:
      return "Handshake";
    case FrameType::kHandshakeResponse:
      return "HandshakeResponse";
    case FrameType::kSnapshotChunk:
      return "SnapshotChunk";
    default:
      break;
  }
  if (is_message_type(static_cast<std::uint8_t>(t))) {
    return message_type_name(static_cast<MessageType>(t));
  }
  return "Unknown";
}

bool is_known_frame_type(std::uint8_t t) {
  return is_message_type(t) || t == static_cast<std::uint8_t>(FrameType::kHandshake) ||
         t == static_cast<std::uint8_t>(FrameType::kHandshakeResponse) ||
         t == static_cast<std::uint8_t>(FrameType::kSnapshotChunk);
}

FrameType frame_type(const Frame& f) {
  switch (f.index()) {
    case 0:
      return static_cast<FrameType>(std::get<Message>(f).type);
    case 1:
      return FrameType::kHandshake;
    case 2:
      return FrameType::kHandshakeResponse;
    default:
      return FrameType::kSnapshotChunk;
  }
}

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

Result<Bytes> encode_frame(const Frame& f, const CodecLimits& limits) {
  switch (f.index()) {
    case 0:
      return encode_message_frame(std::get<Message>(f), limits);
    case 1:
      return encode_handshake(std::get<Handshake>(f), limits);
    case 2:
      return encode_handshake_response(std::get<HandshakeResponse>(f), limits);
    default:
      return encode_snapshot_chunk(std::get<SnapshotChunk>(f), limits);
  }
}

Result<Bytes> encode_message(const Message& m, const CodecLimits& limits) {
  return encode_message_frame(m, limits);
}

}  // namespace raftlock::raft
