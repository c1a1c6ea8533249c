// The contract checks that the libFuzzer target and the stress driver apply to
// whatever bytes they feed a FrameDecoder (raft/codec.h). A violation prints
// what failed and aborts, so that both the fuzzer and ctest report it.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "raft/codec.h"

namespace raftlock::raft::testing {

[[noreturn]] inline void contract_violated(const std::string& what) {
  std::fprintf(stderr, "codec contract violated: %s\n", what.c_str());
  std::abort();
}

struct DecodeOutcome {
  std::size_t frames = 0;  // frames returned before the end or the error
  bool failed = false;
  std::string error;  // the error's message, when failed
};

// Feeds `input` in pieces of piece(bytes left) bytes (1..left), taking every
// complete frame after each piece, and checks that
//  - each frame re-encodes, under the same limits, to exactly the bytes it was
//    decoded from: the encoding is canonical, and the encoder accepts all the
//    decoder accepts;
//  - an error is kCorruption and sticky, and nothing stays buffered after it;
//  - otherwise the decoder holds exactly the bytes it has not returned, which
//    are less than one frame.
// Chunks and snapshot messages also go through a SnapshotAssembler.
template <typename Piece>
DecodeOutcome check_decoder(std::string_view input, const CodecLimits& limits, Piece&& piece) {
  FrameDecoder decoder(limits);
  SnapshotAssembler assembler(std::uint64_t{1} << 20);
  DecodeOutcome out;
  std::size_t fed = 0;
  std::size_t consumed = 0;
  while (fed < input.size() && !out.failed) {
    const std::size_t n = std::clamp<std::size_t>(piece(input.size() - fed), 1, input.size() - fed);
    decoder.feed(input.data() + fed, n);
    fed += n;
    for (;;) {
      Result<std::optional<Frame>> r = decoder.next();
      if (!r) {
        if (r.code() != ErrorCode::kCorruption)
          contract_violated("error " + r.status().to_string());
        Result<std::optional<Frame>> again = decoder.next();
        if (!decoder.failed() || again.is_ok() ||
            again.status().message() != r.status().message()) {
          contract_violated("error not sticky: " + r.status().to_string());
        }
        out.failed = true;
        out.error = r.status().message();
        break;
      }
      if (!r.value().has_value()) break;
      Frame f = std::move(*std::move(r).value());
      Result<Bytes> bytes = encode_frame(f, limits);
      if (!bytes) contract_violated("decoded frame does not encode: " + bytes.status().to_string());
      if (input.substr(consumed, bytes->size()) != *bytes) {
        contract_violated("re-encoded frame differs from the input at offset " +
                          std::to_string(consumed));
      }
      consumed += bytes->size();
      ++out.frames;
      if (auto* c = std::get_if<SnapshotChunk>(&f)) {
        (void)assembler.add(std::move(*c));
      } else if (auto* m = std::get_if<Message>(&f)) {
        (void)assembler.finish(std::move(*m));
      }
    }
    if (!out.failed && (decoder.buffered_bytes() != fed - consumed ||
                        decoder.buffered_bytes() >= limits.frame_bytes_max)) {
      contract_violated("decoder buffers " + std::to_string(decoder.buffered_bytes()) +
                        " bytes; expected " + std::to_string(fed - consumed));
    }
  }
  if (out.failed) {
    decoder.feed(input.data(), std::min<std::size_t>(input.size(), 64));
    if (decoder.buffered_bytes() != 0 || decoder.next().is_ok()) {
      contract_violated("a failed decoder took more input");
    }
  }
  return out;
}

}  // namespace raftlock::raft::testing
