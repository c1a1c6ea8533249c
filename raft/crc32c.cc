// CRC-32C of every peer frame's payload. The table-driven Boost.CRC loop
// costs about a cycle per byte; SSE 4.2's crc32 instruction computes the same
// polynomial 8 bytes at a time, so it is used when the CPU has it.
#include <boost/crc.hpp>
#include <cstring>

#include "raft/codec.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define RAFTLOCK_CRC32C_HW 1
#endif

namespace raftlock::raft {

std::uint32_t crc32c_portable(std::string_view data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

#ifdef RAFTLOCK_CRC32C_HW
namespace {

__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view data) {
  const char* p = data.data();
  std::size_t n = data.size();
  std::uint64_t crc = 0xFFFFFFFFu;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof(word));  // unaligned, little-endian as the instruction expects
    crc = _mm_crc32_u64(crc, word);
    p += 8;
    n -= 8;
  }
  auto c = static_cast<std::uint32_t>(crc);
  while (n > 0) {
    c = _mm_crc32_u8(c, static_cast<unsigned char>(*p));
    ++p;
    --n;
  }
  return c ^ 0xFFFFFFFFu;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");

}  // namespace
#endif

std::uint32_t crc32c(std::string_view data) {
#ifdef RAFTLOCK_CRC32C_HW
  if (kHasSse42) return crc32c_sse42(data);
#endif
  return crc32c_portable(data);
}

}  // namespace raftlock::raft
