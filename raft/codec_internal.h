// Pieces of the codec shared by its files (codec.cc, codec_decode.cc,
// frame_decoder.cc, snapshot_chunks.cc); not part of the codec's interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "raft/codec.h"

namespace raftlock::raft::codec_detail {

// Smallest encoding of a log entry, used to bound entry counts by the bytes
// left before allocating.
inline constexpr std::size_t kEntryFixedBytes = 8 + 8 + 1 + 4;  // term, index, type, data length

inline constexpr std::uint8_t kFirstMessageType = static_cast<std::uint8_t>(MessageType::kVote);
inline constexpr std::uint8_t kLastMessageType =
    static_cast<std::uint8_t>(MessageType::kReadIndexResp);
inline constexpr std::uint8_t kLastEntryType = static_cast<std::uint8_t>(EntryType::kConfChange);

inline bool is_message_type(std::uint8_t t) {
  return t >= kFirstMessageType && t <= kLastMessageType;
}

Status corrupt(std::string what);  // kCorruption
Status too_big(std::string what);  // kLimitExceeded
std::string hex(std::uint64_t v);  // "0x..."

// Decodes a payload whose header passed decode_frame_header and whose CRC matched.
Result<Frame> decode_payload(const FrameHeader& h, std::string_view payload,
                             const CodecLimits& limits);

}  // namespace raftlock::raft::codec_detail
