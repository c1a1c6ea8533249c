// Random valid frames for the codec's tests, fuzz target and stress driver
// (raft/codec.h): every field drawn from one seeded generator, with a bias
// towards the edge values (0, small, UINT64_MAX) where encodings break.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "raft/codec.h"
#include "raft/types.h"

namespace raftlock::raft::testing {

class FrameGen {
 public:
  explicit FrameGen(std::uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }

  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }

  std::uint64_t u64() {
    switch (below(5)) {
      case 0:
        return below(4);
      case 1:
        return below(1000);
      case 2:
        return std::numeric_limits<std::uint64_t>::max() - below(3);
      case 3:
        return std::uint64_t{1} << below(64);
      default:
        return rng_();
    }
  }

  Bytes bytes(std::size_t max_size) {
    Bytes b(below(max_size + 1), '\0');
    for (char& c : b)
      c = static_cast<char>(rng_());
    return b;
  }

  std::set<NodeId> members() {
    std::set<NodeId> ids;
    const std::uint64_t n = below(6);
    for (std::uint64_t k = 0; k < n; ++k)
      ids.insert(below(2) ? 1 + below(9) : std::max<NodeId>(1, u64()));
    return ids;
  }

  Message message(MessageType type) {
    Message m;
    m.type = type;
    m.from = u64();
    m.to = u64();
    m.term = u64();
    m.log_term = u64();
    m.index = u64();
    m.commit = u64();
    m.reject = below(2) == 1;
    m.reject_hint = u64();
    m.hint_term = u64();
    const std::uint64_t n = below(3) == 0 ? 0 : below(5);
    for (std::uint64_t k = 0; k < n; ++k) {
      m.entries.push_back(Entry{.term = u64(),
                                .index = u64(),
                                .type = static_cast<EntryType>(below(3)),
                                .data = bytes(below(4) == 0 ? 200 : 24)});
    }
    if (type == MessageType::kSnapshot || below(4) == 0) {
      m.snapshot.meta.index = u64();
      m.snapshot.meta.term = u64();
      m.snapshot.meta.conf.voters = members();
      m.snapshot.meta.conf.learners = members();
      m.snapshot.data = bytes(300);
    }
    m.context = bytes(below(2) ? 0 : 16);
    return m;
  }

  Message message() { return message(static_cast<MessageType>(1 + below(13))); }

  Handshake handshake() {
    return Handshake{.cluster = bytes(below(8) == 0 ? kClusterNameBytesMax : 12),
                     .sender = u64(),
                     .receiver = u64(),
                     .protocol_version = static_cast<std::uint8_t>(1 + below(255)),
                     .http_address = bytes(below(8) == 0 ? kAddressBytesMax : 20),
                     .peer_address = bytes(below(8) == 0 ? kAddressBytesMax : 20)};
  }

  HandshakeResponse handshake_response() {
    return HandshakeResponse{.accepted = below(2) == 1,
                             .reason = bytes(below(8) == 0 ? kReasonBytesMax : 40)};
  }

  SnapshotChunk snapshot_chunk() {
    SnapshotChunk c{.from = u64(), .to = u64(), .term = u64(), .index = u64()};
    c.data = bytes(100);
    c.last = below(2) == 1;
    c.offset = below(3) == 0 ? 0 : u64() % (std::uint64_t{1} << 62);
    c.total = c.offset + c.data.size() + (c.last ? 0 : 1 + below(1000));
    return c;
  }

  // Any frame; messages more often, as on a real connection.
  Frame frame() {
    switch (below(8)) {
      case 0:
        return handshake();
      case 1:
        return handshake_response();
      case 2:
        return snapshot_chunk();
      default:
        return message();
    }
  }

 private:
  std::mt19937_64 rng_;
};

// Rewrites each frame's CRC field (and magic and version) to match its
// payload, following the length fields from the start, so that mutated
// payloads reach the payload parser instead of failing the CRC check.
inline void fix_frames(Bytes& s) {
  std::size_t at = 0;
  while (s.size() - at >= kFrameHeaderBytes) {
    s.replace(at, 4, kFrameMagic, 4);
    s[at + 4] = static_cast<char>(kProtocolVersion);
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at + 8);
    const std::uint64_t len = (std::uint64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    if (s.size() - at - kFrameHeaderBytes < len) return;
    const std::uint32_t crc = crc32c(std::string_view(s).substr(at + kFrameHeaderBytes, len));
    for (int k = 0; k < 4; ++k)
      s[at + 12 + k] = static_cast<char>(crc >> (24 - 8 * k));
    at += kFrameHeaderBytes + len;
  }
}

}  // namespace raftlock::raft::testing
