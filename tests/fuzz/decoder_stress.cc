// Stress driver for the peer protocol decoder (raft/codec.h), built with
// AddressSanitizer and UndefinedBehaviorSanitizer with any compiler (ctest:
// codec_stress_asan_ubsan). It feeds random bytes and mutated valid frames —
// bit flips, truncations, length field edits, splices of two frames, inserted
// and deleted bytes, overwritten inner length fields — to a FrameDecoder in
// pieces of random sizes, half of them with their CRCs recomputed so that the
// payload parser sees the damage, and checks the decoder's contract on each
// (decoder_harness.h). One seed drives the run; a failure prints it.
//
//   codec_decoder_stress [--iterations N] [--seed S]
//   codec_decoder_stress --corpus DIR   writes a seed corpus for decoder_fuzz
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "raft/codec.h"
#include "tests/fuzz/decoder_harness.h"
#include "tests/fuzz/frame_gen.h"

namespace raftlock::raft::testing {
namespace {

Bytes encode_or_die(const Frame& f) {
  Result<Bytes> b = encode_frame(f);
  if (!b) contract_violated("a generated frame does not encode: " + b.status().to_string());
  return std::move(b).value();
}

void put_u32(Bytes& s, std::size_t at, std::uint32_t v) {
  if (at + 4 > s.size()) return;
  for (int k = 0; k < 4; ++k)
    s[at + k] = static_cast<char>(v >> (24 - 8 * k));
}

// Valid frames back to back, and where each one starts.
struct Stream {
  Bytes bytes;
  std::vector<std::size_t> starts;
};

Stream valid_stream(FrameGen& gen) {
  Stream s;
  const std::uint64_t n = 1 + gen.below(3);
  for (std::uint64_t k = 0; k < n; ++k) {
    s.starts.push_back(s.bytes.size());
    s.bytes += encode_or_die(gen.frame());
  }
  return s;
}

std::uint32_t interesting_u32(FrameGen& gen, std::size_t remaining) {
  switch (gen.below(8)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 0xFFFFFFFFu;
    case 3:
      return 0x80000000u;
    case 4:
      return static_cast<std::uint32_t>(remaining);
    case 5:
      return static_cast<std::uint32_t>(remaining + 1);
    case 6:
      return static_cast<std::uint32_t>(remaining - std::min<std::size_t>(remaining, 1));
    default:
      return static_cast<std::uint32_t>(gen.rng()());
  }
}

void mutate(FrameGen& gen, Stream& s) {
  Bytes& b = s.bytes;
  if (b.empty()) return;
  switch (gen.below(8)) {
    case 0: {  // bit flips
      const std::uint64_t n = 1 + gen.below(4);
      for (std::uint64_t k = 0; k < n; ++k)
        b[gen.below(b.size())] ^= static_cast<char>(1 << gen.below(8));
      break;
    }
    case 1:  // truncation
      b.resize(gen.below(b.size() + 1));
      break;
    case 2: {  // a frame's length field
      const std::size_t start = s.starts[gen.below(s.starts.size())];
      const std::size_t payload = b.size() - std::min(b.size(), start + kFrameHeaderBytes);
      std::uint32_t v = interesting_u32(gen, payload);
      if (gen.below(2)) v = static_cast<std::uint32_t>(payload + gen.below(7) - 3);
      put_u32(b, start + 8, v);
      break;
    }
    case 3: {  // splice: a range of another frame replaces a range of this one
      const Bytes other = encode_or_die(gen.frame());
      const std::size_t at = gen.below(b.size() + 1);
      const std::size_t cut = gen.below(b.size() - at + 1);
      const std::size_t from = gen.below(other.size() + 1);
      b.replace(at, cut, other, from, gen.below(other.size() - from + 1));
      break;
    }
    case 4: {  // an inner length or count field (any offset past a header)
      if (b.size() <= kFrameHeaderBytes) break;
      const std::size_t at = kFrameHeaderBytes + gen.below(b.size() - kFrameHeaderBytes);
      put_u32(b, at, interesting_u32(gen, b.size() - std::min(b.size(), at + 4)));
      break;
    }
    case 5:  // inserted bytes
      b.insert(gen.below(b.size() + 1), gen.bytes(8));
      break;
    case 6: {  // deleted bytes
      const std::size_t at = gen.below(b.size());
      b.erase(at, 1 + gen.below(8));
      break;
    }
    default: {  // an interesting byte value
      static constexpr unsigned char kValues[] = {0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff};
      b[gen.below(b.size())] = static_cast<char>(kValues[gen.below(sizeof(kValues))]);
      break;
    }
  }
}

Bytes make_input(FrameGen& gen) {
  const std::uint64_t kind = gen.below(16);
  if (kind == 0) return gen.bytes(300);
  if (kind == 1) {  // a plausible header over random bytes
    Bytes b = encode_or_die(gen.frame()).substr(0, kFrameHeaderBytes) + gen.bytes(200);
    if (gen.below(2)) fix_frames(b);
    return b;
  }
  Stream s = valid_stream(gen);
  const std::uint64_t mutations = kind == 2 ? 0 : 1 + gen.below(3);
  for (std::uint64_t k = 0; k < mutations; ++k)
    mutate(gen, s);
  if (gen.below(2)) fix_frames(s.bytes);
  return s.bytes;
}

int write_corpus(const std::string& dir) {
  FrameGen gen(1);
  for (int k = 0; k < 64; ++k) {
    Bytes input(1, static_cast<char>(k % 16));  // decoder_fuzz's control byte
    input += valid_stream(gen).bytes;
    const std::string path = dir + "/seed-" + std::to_string(k);
    std::ofstream out(path, std::ios::binary);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  return 0;
}

int run(std::uint64_t iterations, std::uint64_t seed) {
  std::fprintf(stderr, "codec_decoder_stress: seed %llu, %llu iterations\n",
               static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  const auto start = std::chrono::steady_clock::now();
  FrameGen gen(seed);
  const CodecLimits small{.frame_bytes_max = 600,
                          .entries_per_message_max = 3,
                          .members_max = 2,
                          .context_bytes_max = 8};
  std::uint64_t frames = 0, clean = 0, header_errors = 0, crc_errors = 0, payload_errors = 0;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    const Bytes input = make_input(gen);
    const CodecLimits limits = gen.below(8) == 0 ? small : CodecLimits{};
    const std::uint64_t mode = gen.below(4);
    const DecodeOutcome out = check_decoder(input, limits, [&](std::size_t left) -> std::size_t {
      switch (mode) {
        case 0:
          return left;
        case 1:
          return input.size() < 400 ? 1 : left;
        default:
          return 1 + gen.below(std::min<std::size_t>(left, 1 + gen.below(64)));
      }
    });
    frames += out.frames;
    if (!out.failed) {
      ++clean;
    } else if (out.error.rfind("frame header:", 0) == 0) {
      ++header_errors;
    } else if (out.error.find("CRC-32C") != std::string::npos) {
      ++crc_errors;
    } else {
      ++payload_errors;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "codec_decoder_stress: %llu inputs in %.1f s: %llu frames decoded; %llu inputs ended "
      "cleanly, "
      "%llu failed in a header, %llu on a CRC, %llu in a payload\n",
      static_cast<unsigned long long>(iterations), seconds, static_cast<unsigned long long>(frames),
      static_cast<unsigned long long>(clean), static_cast<unsigned long long>(header_errors),
      static_cast<unsigned long long>(crc_errors), static_cast<unsigned long long>(payload_errors));
  // The mix must reach every stage; otherwise the driver tests less than it claims.
  if (iterations >= 1000 && (frames < iterations / 4 || header_errors < iterations / 50 ||
                             crc_errors < iterations / 50 || payload_errors < iterations / 20)) {
    std::fprintf(stderr, "codec_decoder_stress: seed %llu: the inputs missed a decoder stage\n",
                 static_cast<unsigned long long>(seed));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace raftlock::raft::testing

int main(int argc, char** argv) {
  std::uint64_t iterations = 200000;
  std::uint64_t seed = 20240611;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    if (arg == "--iterations" && k + 1 < argc) {
      iterations = std::strtoull(argv[++k], nullptr, 10);
    } else if (arg == "--seed" && k + 1 < argc) {
      seed = std::strtoull(argv[++k], nullptr, 10);
    } else if (arg == "--corpus" && k + 1 < argc) {
      return raftlock::raft::testing::write_corpus(argv[++k]);
    } else {
      std::fprintf(stderr, "usage: %s [--iterations N] [--seed S] | --corpus DIR\n", argv[0]);
      return 2;
    }
  }
  return raftlock::raft::testing::run(iterations, seed);
}
