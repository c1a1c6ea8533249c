#include "http_response.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

namespace raftlock::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

using Outcome = ParsedResponse::Outcome;

constexpr std::string_view kCrlf = "\r\n";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

beast::string_view bsv(std::string_view s) {  // Boost 1.74's string_view is not std's
  return {s.data(), s.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(bsv(a), bsv(b));
}

// Whether the comma-separated list `value` holds `token` (any case).
bool has_token(std::string_view value, std::string_view token) {
  return http::token_list(bsv(value)).exists(bsv(token));
}

// Whether the last coding of the list `value` is chunked.
bool last_token_is_chunked(std::string_view value) {
  beast::string_view last;
  for (const beast::string_view t : http::token_list(bsv(value)))
    last = t;
  return beast::iequals(last, "chunked");
}

// The whole of `s` as an unsigned number (no sign, no prefix, no overflow).
std::optional<std::uint64_t> parse_number(std::string_view s, int base) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

ParsedResponse malformed(std::string why) {
  ParsedResponse r;
  r.outcome = Outcome::kMalformed;
  r.error = std::move(why);
  return r;
}

// Decodes the chunked body starting at `data[at]` into r.body.
ParsedResponse read_chunked(std::string_view data, std::size_t at, bool eof, ParsedResponse r) {
  for (;;) {
    const std::size_t eol = data.find(kCrlf, at);
    if (eol == std::string_view::npos) {
      if (eof) return malformed("connection closed inside a chunked body");
      return r;
    }
    std::string_view size_line = data.substr(at, eol - at);
    size_line = trim(size_line.substr(0, size_line.find(';')));  // chunk extensions
    const std::optional<std::uint64_t> size = parse_number(size_line, 16);
    if (!size) return malformed("bad chunk size");
    if (*size > kMaxResponseBodyBytes - r.body.size()) return malformed("response body too large");
    at = eol + 2;
    if (*size == 0) {
      // Trailer fields, then an empty line.
      for (;;) {
        const std::size_t end = data.find(kCrlf, at);
        if (end == std::string_view::npos) {
          if (eof) return malformed("connection closed inside chunked trailers");
          return r;
        }
        const bool empty = end == at;
        at = end + 2;
        if (empty) break;
      }
      r.outcome = Outcome::kComplete;
      r.consumed = at;
      return r;
    }
    if (data.size() - at < *size + 2) {
      if (eof) return malformed("connection closed inside a chunk");
      return r;
    }
    if (data.substr(at + *size, 2) != kCrlf) return malformed("chunk not followed by CRLF");
    r.body.append(data.substr(at, *size));
    at += *size + 2;
  }
}

}  // namespace

ParsedResponse parse_response(std::string_view data, bool eof) {
  ParsedResponse r;
  const std::size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (data.size() > kMaxResponseHeaderBytes) return malformed("response header too large");
    if (eof)
      return malformed(data.empty() ? "connection closed before a response"
                                    : "connection closed inside the response header");
    return r;
  }
  if (head_end + 4 > kMaxResponseHeaderBytes) return malformed("response header too large");
  std::string_view head = data.substr(0, head_end + 2);  // every line ends with CRLF

  // Status line: HTTP/1.x SP 3DIGIT SP reason
  const std::size_t line_end = head.find(kCrlf);
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
      (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return malformed("bad status line");
  const std::optional<std::uint64_t> code = parse_number(status_line.substr(9, 3), 10);
  if (!code || *code < 100) return malformed("bad status code");
  r.status = static_cast<unsigned>(*code);
  r.keep_alive = status_line[7] == '1';  // HTTP/1.0 closes unless told otherwise
  head.remove_prefix(line_end + 2);

  std::optional<std::uint64_t> length;
  bool chunked = false;
  bool says_close = false, says_keep_alive = false;
  while (!head.empty()) {
    const std::size_t eol = head.find(kCrlf);
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return malformed("bad header line");
    const std::string_view name = line.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) return malformed("bad header name");
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      const std::optional<std::uint64_t> n = parse_number(value, 10);
      if (!n || (length && *length != *n)) return malformed("bad Content-Length");
      length = n;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = last_token_is_chunked(value);
      if (!chunked) return malformed("unsupported Transfer-Encoding");
    } else if (iequals(name, "connection")) {
      says_close = says_close || has_token(value, "close");
      says_keep_alive = says_keep_alive || has_token(value, "keep-alive");
    }
  }
  if (says_keep_alive) r.keep_alive = true;
  if (says_close) r.keep_alive = false;  // close wins

  const std::size_t body_at = head_end + 4;
  if (r.status == 101) return malformed("unexpected 101 Switching Protocols");
  if (r.status < 200 || r.status == 204 || r.status == 304) {
    r.outcome = Outcome::kComplete;
    r.consumed = body_at;
    return r;
  }
  if (chunked) {
    // Chunked wins over a length; such a message leaves the connection
    // unusable for the next one (RFC 9112 6.3).
    if (length) r.keep_alive = false;
    return read_chunked(data, body_at, eof, std::move(r));
  }
  if (length && *length > kMaxResponseBodyBytes) return malformed("response body too large");
  if (length) {
    if (data.size() - body_at < *length) {
      if (eof) return malformed("connection closed inside the body");
      return r;
    }
    r.body.assign(data.substr(body_at, *length));
    r.outcome = Outcome::kComplete;
    r.consumed = body_at + *length;
    return r;
  }
  // Neither: the body runs to the end of the connection.
  r.keep_alive = false;
  if (data.size() - body_at > kMaxResponseBodyBytes) return malformed("response body too large");
  if (!eof) return r;
  r.body.assign(data.substr(body_at));
  r.outcome = Outcome::kComplete;
  r.consumed = data.size();
  return r;
}

}  // namespace raftlock::bench
