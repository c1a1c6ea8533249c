// Pieces of the codec shared by its files (codec.cc, frame_decoder.cc,
// snapshot_chunks.cc); not part of the codec's interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raft/codec.h"

namespace raftlock::raft::codec_detail {

Status corrupt(std::string what);  // kCorruption
Status too_big(std::string what);  // kLimitExceeded
std::string hex(std::uint64_t v);  // "0x..."

// Decodes a payload whose header passed decode_frame_header and whose CRC matched.
Result<Frame> decode_payload(const FrameHeader& h, std::string_view payload,
                             const CodecLimits& limits);

}  // namespace raftlock::raft::codec_detail
