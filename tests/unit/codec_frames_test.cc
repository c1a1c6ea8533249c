// The peer protocol's wire codec (raft/codec.h, docs/protocol.md): the
// example frame of docs/protocol.md byte by byte, round trips of every frame
// type, and a stream of frames decoded the same however it is split.
#include "raft/codec.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/fuzz/frame_gen.h"
#include "tests/unit/codec_harness.h"

namespace raftlock::raft {
namespace {

using codec_testing::decode_one;
using codec_testing::encode;
using codec_testing::kSeed;
using codec_testing::set_u32;
using codec_testing::set_u64;
using testing::FrameGen;

TEST_CASE("codec: a heartbeat frame, byte by byte as in docs/protocol.md") {
  Message m{.type = MessageType::kHeartbeat, .from = 1, .to = 2, .term = 5, .commit = 9};
  m.context = "r1";
  const Bytes frame = encode(m);
  const Bytes expected = std::string("RLCK", 4) + std::string("\x01\x07\x00\x00", 4) +
                         std::string("\x00\x00\x00\x68", 4);  // payload 104 bytes
  REQUIRE(frame.size() == kFrameHeaderBytes + 104);
  CHECK(frame.substr(0, 12) == expected);
  CHECK(frame.substr(12, 4) == std::string("\xdb\x73\x65\xaa", 4));  // CRC-32C of the payload
  Bytes payload(104, '\0');
  payload[0] = 7;           // type again
  set_u64(payload, 1, 1);   // from
  set_u64(payload, 9, 2);   // to
  set_u64(payload, 17, 5);  // term
  set_u64(payload, 41, 9);  // commit
  set_u32(payload, 98, 2);  // context length, after the empty entries and snapshot
  payload[102] = 'r';
  payload[103] = '1';
  CHECK(frame.substr(kFrameHeaderBytes) == payload);
  CHECK(decode_one(frame) == Frame(m));
}

TEST_CASE("codec: every message type round-trips with random field values") {
  FrameGen gen(kSeed);
  for (int t = 1; t <= 13; ++t) {
    CAPTURE(t);
    for (int k = 0; k < 200; ++k) {
      const Message m = gen.message(static_cast<MessageType>(t));
      const Bytes frame = encode(m);
      CHECK(static_cast<unsigned char>(frame[5]) == t);
      CHECK(decode_one(frame) == Frame(m));
    }
  }
}

TEST_CASE("codec: handshake, handshake response and snapshot chunk round-trip") {
  FrameGen gen(kSeed + 1);
  for (int k = 0; k < 300; ++k) {
    for (const Frame& f :
         {Frame(gen.handshake()), Frame(gen.handshake_response()), Frame(gen.snapshot_chunk())}) {
      CHECK(decode_one(encode(f)) == f);
    }
  }
  const Handshake longest{
      std::string(kClusterNameBytesMax, 'c'), 1, 2, 255, std::string(kAddressBytesMax, 'a'),
      std::string(kAddressBytesMax, 'p')};
  CHECK(decode_one(encode(longest)) == Frame(longest));
}

TEST_CASE("codec: the handshake's peer address round-trips, empty or not") {
  const Handshake with{"prod", 7, 1, 1, "10.0.0.7:8080", "10.0.0.7:7080"};
  const Handshake without{"prod", 7, 1, 1, "10.0.0.7:8080", ""};
  CHECK(decode_one(encode(with)) == Frame(with));
  CHECK(decode_one(encode(without)) == Frame(without));
  // The peer address follows the http address: u16 length, then the bytes.
  const Bytes frame = encode(with);
  CHECK(frame.substr(frame.size() - 15) == std::string("\x00\x0d", 2) + "10.0.0.7:7080");
  CHECK(encode(with).size() == encode(without).size() + with.peer_address.size());
}

TEST_CASE("codec: a stream of frames decodes the same however it is split") {
  FrameGen gen(kSeed + 2);
  std::vector<Frame> frames;
  Bytes stream;
  for (int k = 0; k < 60; ++k) {
    frames.push_back(gen.frame());
    stream += encode(frames.back());
  }
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{16}, std::size_t{17},
                            std::size_t{1000}, stream.size()}) {
    CAPTURE(piece);
    FrameDecoder d;
    std::vector<Frame> got;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      d.feed(std::string_view(stream).substr(at, piece));
      for (;;) {
        Result<std::optional<Frame>> r = d.next();
        REQUIRE(r.is_ok());
        if (!r.value().has_value()) break;
        got.push_back(std::move(*std::move(r).value()));
      }
    }
    CHECK(got == frames);
    CHECK(d.buffered_bytes() == 0);
  }
}

}  // namespace
}  // namespace raftlock::raft
