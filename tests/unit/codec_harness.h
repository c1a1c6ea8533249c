// Helpers for the codec's unit tests (codec_test.cc, codec_frames_test.cc):
// encoding that must succeed, decoding a whole input with one FrameDecoder,
// and writing big-endian fields into hand-made frames.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "raft/codec.h"

namespace raftlock::raft::codec_testing {

inline constexpr std::uint64_t kSeed = 0xC0DEC;

inline Bytes encode(const Frame& f, const CodecLimits& limits = {}) {
  Result<Bytes> b = encode_frame(f, limits);
  REQUIRE_MESSAGE(b.is_ok(), b.status().to_string());
  return std::move(b).value();
}

// Everything a decoder makes of `input` fed at once: the frames, then the
// error if there was one (empty when it just wants more bytes).
struct Decoded {
  std::vector<Frame> frames;
  Status error;
};

inline Decoded decode_all(std::string_view input, const CodecLimits& limits = {}) {
  FrameDecoder d(limits);
  d.feed(input);
  Decoded out;
  for (;;) {
    Result<std::optional<Frame>> r = d.next();
    if (!r) {
      out.error = r.status();
      return out;
    }
    if (!r.value().has_value()) return out;
    out.frames.push_back(std::move(*std::move(r).value()));
  }
}

inline Frame decode_one(std::string_view input, const CodecLimits& limits = {}) {
  Decoded d = decode_all(input, limits);
  REQUIRE_MESSAGE(d.error.is_ok(), d.error.to_string());
  REQUIRE(d.frames.size() == 1);
  return d.frames[0];
}

inline void set_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int k = 0; k < 4; ++k)
    b[at + k] = static_cast<char>(v >> (24 - 8 * k));
}
inline void set_u64(Bytes& b, std::size_t at, std::uint64_t v) {
  for (int k = 0; k < 8; ++k)
    b[at + k] = static_cast<char>(v >> (56 - 8 * k));
}

}  // namespace raftlock::raft::codec_testing
