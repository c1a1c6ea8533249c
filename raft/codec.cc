// The encoding side of the codec (raft/codec.h): a writer of big-endian
// fields, the encoders of each frame type, and the names and types of frames.
#include "raft/codec.h"

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <utility>

#include "raft/assert.h"
#include "raft/codec_internal.h"

namespace raftlock::raft {

using codec_detail::is_message_type;
using codec_detail::kEntryFixedBytes;
using codec_detail::kLastEntryType;
using codec_detail::too_big;

// The layouts below are documented byte by byte in docs/protocol.md; keep both
// in step. Every payload starts with a copy of the frame type, so that the
// CRC-32C of the payload also protects the type byte of the header.
namespace {

// Smallest encodings, used to bound counts by the bytes left before allocating.
constexpr std::size_t kMessageFixedBytes = 1 + 6 * 8 + 1 + 2 * 8 + 4 + (8 + 8 + 4 + 4 + 4) + 4;
constexpr std::size_t kHandshakeFixedBytes = 1 + 2 + 8 + 8 + 1 + 2 + 2;
constexpr std::size_t kHandshakeResponseFixedBytes = 1 + 1 + 2;
constexpr std::size_t kSnapshotChunkFixedBytes = 1 + 6 * 8 + 1 + 4;

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
