// libFuzzer target for the peer protocol decoder (raft/codec.h), built only
// with clang (-fsanitize=fuzzer,address,undefined):
//
//   build/tests/fuzz/codec_decoder_fuzz -max_total_time=60 CORPUS_DIR
//
// A seed corpus comes from `codec_decoder_stress --corpus CORPUS_DIR`.
//
// The first input byte steers the run, the rest is the byte stream:
//   bit 0     rewrite every frame's magic, version and CRC to be valid, so that
//             mutations reach the payload parser instead of the CRC check
//   bits 1-2  how the stream is fed: whole, byte by byte, in pieces of 7, or
//             in pieces of pseudo-random sizes
//   bit 3     small limits, so that every limit check is within reach
#include <cstddef>
#include <cstdint>
#include <string>

#include "raft/codec.h"
#include "tests/fuzz/decoder_harness.h"
#include "tests/fuzz/frame_gen.h"

namespace rr = raftlock::raft;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  rr::Bytes stream(reinterpret_cast<const char*>(data + 1), size - 1);
  if (control & 1) rr::testing::fix_frames(stream);

  rr::CodecLimits limits;
  if (control & 8) {
    limits = rr::CodecLimits{.frame_bytes_max = 600,
                             .entries_per_message_max = 3,
                             .members_max = 2,
                             .context_bytes_max = 8};
  }
  std::uint32_t state = control * 2654435761u + 1;
  const int mode = (control >> 1) & 3;
  rr::testing::check_decoder(stream, limits, [&](std::size_t left) -> std::size_t {
    switch (mode) {
      case 0:
        return left;
      case 1:
        return 1;
      case 2:
        return 7;
      default:
        state = state * 1103515245u + 12345u;
        return 1 + (state >> 16) % 64;
    }
  });
  return 0;
}
