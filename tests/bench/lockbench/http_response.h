// Parsing of one HTTP/1.1 response from the bytes a connection has read so
// far (RFC 9112): the status line, the headers that frame the body
// (Content-Length, Transfer-Encoding: chunked, or the connection's end) and
// whether the connection stays open. Nothing else of the headers is kept:
// lockbench needs the status and the body only, and parsing less is what
// keeps the client cheap next to the servers it measures.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace raftlock::bench {

struct ParsedResponse {
  enum class Outcome {
    kIncomplete,  // more bytes needed
    kComplete,    // `consumed` bytes form one whole response
    kMalformed,   // not a response this parser accepts; `error` says why
  };
  Outcome outcome = Outcome::kIncomplete;
  std::size_t consumed = 0;
  unsigned status = 0;
  bool keep_alive = true;  // false: the server closes (or closed) the connection
  std::string body;        // decoded (chunks joined)
  std::string error;
};

// Headers or bodies beyond these are malformed (a runaway or hostile peer).
inline constexpr std::size_t kMaxResponseHeaderBytes = 64 * 1024;
inline constexpr std::size_t kMaxResponseBodyBytes = 8 * 1024 * 1024;

// Parses the response at the start of `data`. `eof`: the peer has closed its
// side, so a body framed by the connection's end is complete and anything
// else still short is malformed. A 1xx answer is complete on its own (the
// caller reads the final one after it); 204, 304 and 1xx have no body; 101
// (a protocol switch lockbench never asks for) is malformed. Each call parses
// from the start: fine for the small answers of a lock service (a large
// chunked body would be parsed again for every read).
ParsedResponse parse_response(std::string_view data, bool eof);

}  // namespace raftlock::bench
