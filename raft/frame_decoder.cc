#include "raft/codec.h"
#include "raft/codec_internal.h"

#include <algorithm>
#include <boost/crc.hpp>
#include <boost/endian/conversion.hpp>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "raft/assert.h"

namespace raftlock::raft {

using codec_detail::corrupt;
using codec_detail::decode_payload;
using codec_detail::hex;

namespace {
// The decoder keeps at most this much buffer capacity between frames.
constexpr std::size_t kIdleBufferBytesMax = 1u << 20;
// Consumed bytes at the front of the buffer are dropped once there are this many.
constexpr std::size_t kCompactBytes = 64u << 10;
}  // namespace

// ---- FrameDecoder ----

FrameDecoder::FrameDecoder(CodecLimits limits) : limits_(limits) {
  RAFTLOCK_ASSERT(limits_.frame_bytes_max > kFrameHeaderBytes);
}

void FrameDecoder::feed(const char* data, std::size_t size) {
  // Invariant: the frames in [pos_, scan_) are complete and their headers
  // checked; the frame at scan_ is incomplete. Bytes are taken only up to the
  // end of the header, or of the frame, at scan_, so that a header is checked
  // before any byte of its payload is buffered.
  while (size > 0 && !failed_ && !input_failed_) {
    const std::size_t have = buf_.size() - scan_;
    const bool in_header = have < kFrameHeaderBytes;
    const std::size_t want = in_header ? kFrameHeaderBytes - have : scan_end_ - buf_.size();
    const std::size_t take = std::min(want, size);
    buf_.append(data, take);
    data += take;
    size -= take;
    if (in_header && buf_.size() - scan_ == kFrameHeaderBytes) {
      Result<FrameHeader> h =
          decode_frame_header(std::string_view(buf_).substr(scan_, kFrameHeaderBytes), limits_);
      if (!h) {
        // Frames before this one are still returned; then this error.
        input_failed_ = true;
        error_ = h.status();
        buf_.resize(scan_);
        return;
      }
      scan_end_ = scan_ + kFrameHeaderBytes + h->payload_bytes;
    }
    if (buf_.size() - scan_ >= kFrameHeaderBytes && buf_.size() == scan_end_) scan_ = scan_end_;
  }
}

Result<std::optional<Frame>> FrameDecoder::next() {
  if (failed_) return error_;
  if (pos_ == scan_) {
    if (input_failed_) {
      fail(error_);
      return error_;
    }
    return std::optional<Frame>();
  }
  const std::string_view view(buf_);
  Result<FrameHeader> h = decode_frame_header(view.substr(pos_, kFrameHeaderBytes), limits_);
  RAFTLOCK_ASSERT(h.is_ok());  // feed() checked it
  const std::string_view payload = view.substr(pos_ + kFrameHeaderBytes, h->payload_bytes);
  const std::uint32_t crc = crc32c(payload);
  if (crc != h->payload_crc) {
    fail(corrupt(std::string(frame_type_name(h->type)) + " frame: payload CRC-32C " + hex(crc) +
                 " differs from the header's " + hex(h->payload_crc)));
    return error_;
  }
  Result<Frame> f = decode_payload(*h, payload, limits_);
  if (!f) {
    fail(f.status());
    return error_;
  }
  pos_ += kFrameHeaderBytes + h->payload_bytes;
  if (pos_ == buf_.size()) {
    if (buf_.capacity() > kIdleBufferBytesMax) {
      Bytes().swap(buf_);
    } else {
      buf_.clear();
    }
    pos_ = scan_ = scan_end_ = 0;
  } else if (pos_ >= kCompactBytes && 2 * pos_ >= buf_.size()) {
    buf_.erase(0, pos_);
    scan_ -= pos_;
    scan_end_ -= pos_;
    pos_ = 0;
  }
  return std::optional<Frame>(std::move(f).value());
}

void FrameDecoder::fail(Status s) {
  failed_ = true;
  error_ = std::move(s);
  Bytes().swap(buf_);
  pos_ = scan_ = scan_end_ = 0;
}

}  // namespace raftlock::raft
