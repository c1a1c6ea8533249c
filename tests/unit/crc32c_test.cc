// crc32c: the instruction-based and the table-driven computations agree on
// every length and alignment, and both give the standard check value.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "raft/codec.h"

namespace raftlock::raft {
namespace {

TEST_CASE("crc32c: the Castagnoli CRC's check values") {
  CHECK(crc32c("123456789") == 0xE3069283u);  // the standard check value
  CHECK(crc32c_portable("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);    // RFC 3720 B.4: 32 bytes of zeros
  CHECK(crc32c(std::string(32, '\xff')) == 0x62A8AB43u);  // and of ones
}

TEST_CASE("crc32c: same result as the portable computation at every length and offset") {
  std::mt19937_64 rng(7);
  std::string buf(4096 + 16, '\0');
  for (char& c : buf)
    c = static_cast<char>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; len <= 300; ++len) {
      const std::string_view s(buf.data() + offset, len);
      REQUIRE(crc32c(s) == crc32c_portable(s));
    }
    const std::string_view big(buf.data() + offset, 4096);
    CHECK(crc32c(big) == crc32c_portable(big));
  }
}

}  // namespace
}  // namespace raftlock::raft
