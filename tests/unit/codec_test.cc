// The peer protocol's wire codec (raft/codec.h, docs/protocol.md): that every
// kind of damage to a frame is detected and nothing from a damaged frame is
// returned, that limits are enforced on both sides, and chunked snapshot
// transfer. Round trips of good frames are in codec_frames_test.cc.
#include "raft/codec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tests/fuzz/frame_gen.h"
#include "tests/unit/codec_harness.h"

namespace raftlock::raft {
namespace {

using codec_testing::decode_all;
using codec_testing::decode_one;
using codec_testing::Decoded;
using codec_testing::encode;
using codec_testing::kSeed;
using codec_testing::set_u32;
using codec_testing::set_u64;
using testing::FrameGen;

// The error a single damaged frame gives; REQUIREs that it gives one.
Status decode_error(std::string_view input, const CodecLimits& limits = {}) {
  Decoded d = decode_all(input, limits);
  CHECK(d.frames.empty());
  REQUIRE_FALSE(d.error.is_ok());
  CHECK(d.error.code() == ErrorCode::kCorruption);
  return d.error;
}

bool mentions(const Status& s, const std::string& what) {
  return s.message().find(what) != std::string::npos;
}

// Rewrites the length and CRC fields to match the payload that follows.
Bytes refit(Bytes frame) {
  set_u32(frame, 8, static_cast<std::uint32_t>(frame.size() - kFrameHeaderBytes));
  set_u32(frame, 12, crc32c(std::string_view(frame).substr(kFrameHeaderBytes)));
  return frame;
}

// Offsets in a Message payload (docs/protocol.md).
constexpr std::size_t kReject = 49;
constexpr std::size_t kEntryCount = 66;
constexpr std::size_t kFirstEntry = 70;

// One sample of each frame type, small enough to damage byte by byte.
std::vector<Frame> samples() {
  FrameGen gen(kSeed);
  std::vector<Frame> out;
  for (int t = 1; t <= 13; ++t) {
    Message m = gen.message(static_cast<MessageType>(t));
    m.entries.resize(std::min<std::size_t>(m.entries.size(), 2));
    for (Entry& e : m.entries)
      e.data.resize(std::min<std::size_t>(e.data.size(), 8));
    m.snapshot.data.resize(std::min<std::size_t>(m.snapshot.data.size(), 8));
    out.push_back(m);
  }
  out.push_back(Handshake{"prod-eu", 1, 2, 1, "10.0.0.1:8080", "10.0.0.1:7080"});
  out.push_back(HandshakeResponse{false, "cluster name mismatch"});
  out.push_back(SnapshotChunk{1, 2, 7, 100, 4096, 10000, false, "chunk-bytes"});
  return out;
}

TEST_CASE("codec: every single-byte corruption is detected") {
  // The payload's CRC covers the payload; the payload repeats the type; the
  // other header fields are checked one by one. A changed length makes the
  // decoder wait for more bytes (then the CRC fails) or cut the frame short
  // (and the CRC fails). No damaged frame may decode to anything.
  for (const Frame& f : samples()) {
    const Bytes frame = encode(f);
    CAPTURE(frame_type_name(frame_type(f)));
    for (std::size_t at = 0; at < frame.size(); ++at) {
      for (int x = 1; x < 256; ++x) {
        Bytes bad = frame;
        bad[at] = static_cast<char>(bad[at] ^ x);
        Decoded d = decode_all(bad);
        if (d.error.is_ok() && d.frames.empty() && at >= 8 && at < 12) continue;  // wants more
        CAPTURE(at);
        CAPTURE(x);
        REQUIRE(d.frames.empty());
        REQUIRE(d.error.code() == ErrorCode::kCorruption);
      }
    }
  }
}

TEST_CASE("codec: truncated frames wait, truncated payloads are errors") {
  for (const Frame& f : samples()) {
    const Bytes frame = encode(f);
    CAPTURE(frame_type_name(frame_type(f)));
    for (std::size_t n = 0; n < frame.size(); ++n) {
      CAPTURE(n);
      // A prefix is an incomplete frame: no frame, no error yet.
      Decoded d = decode_all(std::string_view(frame).substr(0, n));
      CHECK(d.frames.empty());
      CHECK(d.error.is_ok());
      // A prefix whose header claims exactly its bytes, with their CRC, is a
      // payload that ends too soon.
      if (n >= kFrameHeaderBytes) decode_error(refit(frame.substr(0, n)));
    }
  }
}

TEST_CASE("codec: trailing bytes in a payload are an error") {
  for (const Frame& f : samples()) {
    const Status s = decode_error(refit(encode(f) + "x"));
    CHECK_MESSAGE(mentions(s, "1 trailing bytes"), s.to_string());
  }
}

TEST_CASE("codec: a length over the limit is refused before the payload is buffered") {
  Bytes header = encode(Message{}).substr(0, kFrameHeaderBytes);
  set_u32(header, 8, 0xFFFFFFFFu);
  FrameDecoder d;
  d.feed(header + Bytes(1 << 16, 'p'));  // the payload follows in the same read
  CHECK(d.buffered_bytes() == 0);
  Result<std::optional<Frame>> r = d.next();
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.code() == ErrorCode::kCorruption);
  CHECK_MESSAGE(mentions(r.status(), "payload length 4294967295 exceeds the limit"),
                r.status().to_string());
  CHECK(d.buffered_bytes() == 0);

  // The limit is the whole frame: exactly frame_bytes_max passes.
  const CodecLimits limits{.frame_bytes_max = 300};
  Message m{.type = MessageType::kPropose};
  m.entries.push_back(Entry{.data = Bytes(300 - kFrameHeaderBytes - 102 - 21, 'd')});
  const Bytes fits = encode(m, limits);
  CHECK(fits.size() == 300);
  CHECK(decode_one(fits, limits) == Frame(m));
  m.entries[0].data += "d";
  CHECK(encode_message(m, limits).code() == ErrorCode::kLimitExceeded);
  const Bytes over = encode(m);
  CHECK(mentions(decode_error(over, limits), "exceeds the limit 284"));
  FrameDecoder small(limits);
  small.feed(std::string_view(over).substr(0, kFrameHeaderBytes));
  CHECK(small.next().code() == ErrorCode::kCorruption);  // from the header alone
}

TEST_CASE("codec: bad magic, version, type and flags") {
  const Bytes frame = encode(samples()[0]);
  auto with = [&](std::size_t at, char v) {
    Bytes b = frame;
    b[at] = v;
    return b;
  };
  CHECK(mentions(decode_error(with(0, 'X')), "bad magic 0x584c434b"));
  CHECK(mentions(decode_error(with(3, 'C')), "not \"RLCK\""));
  CHECK(mentions(decode_error(with(4, 0)), "protocol version 0 unsupported"));
  CHECK(mentions(decode_error(with(4, 2)), "protocol version 2 unsupported"));
  for (int t : {0, 14, 63, 67, 128, 255}) {
    CAPTURE(t);
    CHECK(mentions(decode_error(with(5, static_cast<char>(t))), "unknown frame type"));
  }
  // Another valid type: the payload's copy of the type, under the CRC, differs.
  CHECK(mentions(decode_error(with(5, 2)), "type byte 1 differs"));
  CHECK(mentions(decode_error(with(6, 0x40)), "unknown flags 0x4000"));
  CHECK(mentions(decode_error(with(7, 1)), "unknown flags 0x1"));
  // A bad CRC.
  CHECK(mentions(decode_error(with(15, static_cast<char>(frame[15] ^ 1))), "CRC-32C"));
}

TEST_CASE("codec: the decoder stays failed; earlier good frames still come out") {
  const Bytes good = encode(samples()[4]);
  Bytes bad = good;
  bad[0] = 'X';
  FrameDecoder d;
  d.feed(good + good + bad + good);
  for (int k = 0; k < 2; ++k) {
    Result<std::optional<Frame>> r = d.next();
    REQUIRE(r.is_ok());
    CHECK(r.value().has_value());
  }
  const Result<std::optional<Frame>> r = d.next();
  REQUIRE_FALSE(r.is_ok());
  CHECK(d.failed());
  CHECK(d.buffered_bytes() == 0);
  d.feed(good);
  CHECK(d.buffered_bytes() == 0);
  const Result<std::optional<Frame>> again = d.next();
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().message() == r.status().message());
}

TEST_CASE("codec: inner fields are checked against limits, ranges and the bytes left") {
  Message m{.type = MessageType::kAppend, .from = 1, .to = 2, .term = 3};
  m.entries = {Entry{.term = 3, .index = 10, .data = "abc"}, Entry{.term = 3, .index = 11}};
  m.snapshot.meta.conf = ConfState{{1, 2, 3}, {}};
  const Bytes frame = encode(m);
  const std::size_t p = kFrameHeaderBytes;
  auto patched = [&](std::size_t at, auto&& edit) {
    Bytes b = frame;
    edit(b, p + at);
    return refit(b);
  };

  CHECK(mentions(decode_error(patched(kReject, [](Bytes& b, std::size_t at) { b[at] = 2; })),
                 "reject is 2, not 0 or 1 at payload offset 49"));
  CHECK(
      mentions(decode_error(patched(kFirstEntry + 16, [](Bytes& b, std::size_t at) { b[at] = 3; })),
               "entry type 3 unknown"));
  CHECK(mentions(decode_error(patched(
                     kEntryCount, [](Bytes& b, std::size_t at) { set_u32(b, at, 0xFFFFFFFF); })),
                 "entry count 4294967295 exceeds the limit"));
  CHECK(mentions(
      decode_error(patched(kEntryCount, [](Bytes& b, std::size_t at) { set_u32(b, at, 9); })),
      "entry count 9 exceeds the"));
  CHECK(mentions(decode_error(patched(kFirstEntry + 17,
                                      [](Bytes& b, std::size_t at) { set_u32(b, at, 1000); })),
                 "entry data length 1000 exceeds the"));
  CHECK(mentions(decode_error(frame, CodecLimits{.entries_per_message_max = 1}),
                 "entry count 2 exceeds the limit 1"));
  CHECK(
      mentions(decode_error(frame, CodecLimits{.members_max = 2}), "voters 3 exceeds the limit 2"));

  // Voters start after the entries (21 + 3 and 21 bytes) and the snapshot index and term.
  const std::size_t voters = kFirstEntry + 24 + 21 + 16;
  CHECK(mentions(
      decode_error(patched(voters + 4 + 8, [](Bytes& b, std::size_t at) { set_u64(b, at, 1); })),
      "voters not strictly ascending"));
  CHECK(mentions(
      decode_error(patched(voters + 4, [](Bytes& b, std::size_t at) { set_u64(b, at, 0); })),
      "voters contain node 0"));

  Message ctx{.type = MessageType::kReadIndex, .from = 4};
  ctx.context = Bytes(9, 'c');
  CHECK(mentions(decode_error(encode(ctx), CodecLimits{.context_bytes_max = 8}),
                 "context length 9 exceeds the limit 8"));

  const Bytes hs = encode(Handshake{"c", 1, 2, 1, "h:1"});
  Bytes v0 = hs;
  v0[p + 1 + 2 + 1 + 16] = 0;  // type, name length, name, sender and receiver
  CHECK(mentions(decode_error(refit(v0)), "protocol version 0"));
  Bytes long_name = hs;
  set_u32(long_name, p + 1, 0x01000000);  // name length 256 (u16), then bytes
  CHECK(mentions(decode_error(refit(long_name)), "cluster name length 256 exceeds the limit 255"));
  // The peer address is last: its u16 length, 0 in `hs`, becomes 256.
  Bytes long_peer = hs + std::string(256, 'p');
  long_peer[hs.size() - 2] = 1;
  long_peer[hs.size() - 1] = 0;
  CHECK(mentions(decode_error(refit(long_peer)), "peer address length 256 exceeds the limit 255"));

  Bytes accepted = encode(HandshakeResponse{true, ""});
  accepted[p + 1] = 2;
  CHECK(mentions(decode_error(refit(accepted)), "accepted is 2"));

  const Bytes chunk = encode(SnapshotChunk{1, 2, 3, 4, 10, 30, false, "0123456789"});
  Bytes beyond = chunk;
  set_u64(beyond, p + 33, 31);  // offset > total
  CHECK(mentions(decode_error(refit(beyond)), "offset 31 beyond total 30"));
  Bytes last = chunk;
  last[p + 49] = 1;  // marked last, but 10 + 10 < 30
  CHECK(mentions(decode_error(refit(last)), "chunk marked last does not reach total"));
  Bytes reaches = chunk;
  set_u64(reaches, p + 41, 20);  // 10 + 10 = total, not marked last
  CHECK(mentions(decode_error(refit(reaches)), "chunk reaching total not marked last"));
  Bytes not_last = chunk;
  set_u64(not_last, p + 41, 19);  // total 19 < offset + 10
  CHECK(mentions(decode_error(refit(not_last)), "chunk data length 10 exceeds the limit 9"));
}

TEST_CASE("codec: the encoder refuses what the decoder would") {
  Message m{.type = MessageType::kAppend};
  m.entries.resize(3);
  CHECK(encode_message(m, CodecLimits{.entries_per_message_max = 2}).code() ==
        ErrorCode::kLimitExceeded);
  m.entries[1].type = static_cast<EntryType>(3);
  CHECK(encode_message(m).code() == ErrorCode::kInvalidArgument);
  m.entries.clear();
  m.context = Bytes(kContextBytesMax + 1, 'c');
  CHECK(encode_message(m).code() == ErrorCode::kLimitExceeded);
  m.context.clear();
  m.snapshot.meta.conf.voters = {0, 1};
  CHECK(encode_message(m).code() == ErrorCode::kInvalidArgument);
  m.snapshot.meta.conf.voters = {1, 2, 3};
  CHECK(encode_message(m, CodecLimits{.members_max = 2}).code() == ErrorCode::kLimitExceeded);
  m.type = static_cast<MessageType>(0);
  CHECK(encode_message(m).code() == ErrorCode::kInvalidArgument);
  m.type = static_cast<MessageType>(14);
  CHECK(encode_message(m).code() == ErrorCode::kInvalidArgument);

  CHECK(encode_frame(Handshake{std::string(256, 'c'), 1, 2, 1, ""}).code() ==
        ErrorCode::kLimitExceeded);
  CHECK(encode_frame(Handshake{"c", 1, 2, 1, std::string(256, 'a')}).code() ==
        ErrorCode::kLimitExceeded);
  CHECK(
      encode_frame(Handshake{"c", 1, 2, 1, "h:1", std::string(kAddressBytesMax + 1, 'p')}).code() ==
      ErrorCode::kLimitExceeded);
  CHECK(encode_frame(Handshake{"c", 1, 2, 0, "h:1"}).code() == ErrorCode::kInvalidArgument);
  CHECK(encode_frame(HandshakeResponse{false, std::string(kReasonBytesMax + 1, 'r')}).code() ==
        ErrorCode::kLimitExceeded);
  CHECK(encode_frame(SnapshotChunk{1, 2, 3, 4, 0, 5, false, "12345"}).code() ==
        ErrorCode::kInvalidArgument);
  CHECK(encode_frame(SnapshotChunk{1, 2, 3, 4, 3, 5, true, "123"}).code() ==
        ErrorCode::kInvalidArgument);
  CHECK(encode_frame(SnapshotChunk{1, 2, 3, 4, 6, 5, true, ""}).code() ==
        ErrorCode::kInvalidArgument);
}

// ---- chunked snapshots ----

Message big_snapshot(FrameGen& gen, std::size_t bytes) {
  Message m = gen.message(MessageType::kSnapshot);
  m.snapshot.data = gen.bytes(bytes);
  m.snapshot.data.resize(bytes, 's');
  return m;
}

// Sends `frames` through the encoder and one decoder, with a heartbeat
// between every two, and reassembles; returns the kSnapshot message or the error.
Result<Message> transfer(const std::vector<Frame>& frames, SnapshotAssembler& assembler) {
  Bytes stream;
  const Message heartbeat{.type = MessageType::kHeartbeat, .from = 1, .to = 2, .term = 3};
  for (const Frame& f : frames)
    stream += encode(f) + encode(heartbeat);
  Decoded d = decode_all(stream);
  REQUIRE(d.error.is_ok());
  REQUIRE(d.frames.size() == 2 * frames.size());
  for (Frame& f : d.frames) {
    if (auto* c = std::get_if<SnapshotChunk>(&f)) {
      if (Status s = assembler.add(std::move(*c)); !s) return s;
      continue;
    }
    Message m = std::get<Message>(std::move(f));
    Result<Message> out = assembler.finish(std::move(m));
    if (!out) return out;
    if (out->type == MessageType::kSnapshot) return out;
    CHECK(*out == heartbeat);  // passes through, even mid-transfer
  }
  return Status(ErrorCode::kUnavailable, "no snapshot message");
}

TEST_CASE("codec: a snapshot split into chunks is reassembled") {
  FrameGen gen(kSeed + 3);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{10007}}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{1000}, std::size_t{4096}, size + 1}) {
      if (size > 5000 && chunk == 1) continue;
      CAPTURE(size);
      CAPTURE(chunk);
      const Message m = big_snapshot(gen, size);
      const std::vector<Frame> frames = split_snapshot(m, chunk);
      CHECK(frames.size() == (size == 0 ? 1 : (size + chunk - 1) / chunk) + 1);
      CHECK(std::get<Message>(frames.back()).snapshot.data.empty());
      SnapshotAssembler assembler;
      Result<Message> got = transfer(frames, assembler);
      REQUIRE_MESSAGE(got.is_ok(), got.status().to_string());
      CHECK(*got == m);
      CHECK_FALSE(assembler.in_progress());
    }
  }
}

TEST_CASE("codec: chunks out of order or not matching their message are refused") {
  FrameGen gen(kSeed + 4);
  const Message m = big_snapshot(gen, 5000);
  const std::vector<Frame> frames = split_snapshot(m, 1000);  // 5 chunks and the message

  SUBCASE("a missing chunk") {
    std::vector<Frame> missing = frames;
    missing.erase(missing.begin() + 2);
    SnapshotAssembler a;
    CHECK(transfer(missing, a).code() == ErrorCode::kCorruption);
    CHECK_FALSE(a.in_progress());
  }
  SUBCASE("the message before the last chunk") {
    std::vector<Frame> early(frames.begin(), frames.begin() + 3);
    early.push_back(frames.back());
    SnapshotAssembler a;
    CHECK(transfer(early, a).code() == ErrorCode::kCorruption);
  }
  SUBCASE("a message for another snapshot index") {
    std::vector<Frame> other = frames;
    std::get<Message>(other.back()).snapshot.meta.index += 1;
    SnapshotAssembler a;
    CHECK(transfer(other, a).code() == ErrorCode::kCorruption);
  }
  SUBCASE("a chunk from another term") {
    std::vector<Frame> other = frames;
    std::get<SnapshotChunk>(other[3]).term += 1;
    SnapshotAssembler a;
    CHECK(transfer(other, a).code() == ErrorCode::kCorruption);
  }
  SUBCASE("a restarted transfer replaces the abandoned one") {
    std::vector<Frame> restarted(frames.begin(), frames.begin() + 2);
    restarted.insert(restarted.end(), frames.begin(), frames.end());
    SnapshotAssembler a;
    Result<Message> got = transfer(restarted, a);
    REQUIRE(got.is_ok());
    CHECK(*got == m);
  }
  SUBCASE("a snapshot larger than the limit") {
    SnapshotAssembler a(4999);
    CHECK(a.add(std::get<SnapshotChunk>(frames[0])).code() == ErrorCode::kLimitExceeded);
    CHECK_FALSE(a.in_progress());
  }
  SUBCASE("a snapshot sent whole passes through") {
    SnapshotAssembler a;
    Result<Message> got = a.finish(m);
    REQUIRE(got.is_ok());
    CHECK(*got == m);
  }
}

}  // namespace
}  // namespace raftlock::raft
