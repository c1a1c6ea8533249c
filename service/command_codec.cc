// The binary form of a command (docs/service.md "Commands"):
//   0xC1, operation code [, name if the code is 0], operand count, then the
//   operands, each a tag byte and a value: strings and the list "ids" as
//   varint lengths and bytes, numbers as zigzag varints.
// Decoding checks every length against the bytes left; an unknown tag, a
// truncated value, an overlong varint, fewer operands than counted or bytes
// after the last make the entry "not a command".
#include <cstdint>
#include <string>
#include <string_view>

#include "service/command.h"
#include "service/command_fields.h"

namespace raftlock::service {

using namespace command_detail;

namespace {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool done() const { return pos_ == in_.size(); }
  bool ok() const { return ok_; }

  std::uint8_t byte() {
    if (pos_ >= in_.size()) return fail();
    return static_cast<std::uint8_t>(in_[pos_++]);
  }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint8_t b = byte();
      if (!ok_) return 0;
      if (shift == 63 && b > 1) return fail();  // more than 64 bits
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail();
  }

  std::string string() {
    const std::uint64_t n = varint();
    if (!ok_ || n > in_.size() - pos_) {
      fail();
      return std::string();
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  // Each element takes at least one byte: a count above what is left is false.
  std::uint64_t count() {
    const std::uint64_t n = varint();
    if (ok_ && n > in_.size() - pos_) fail();
    return ok_ ? n : 0;
  }

 private:
  std::uint8_t fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

Status not_a_command(const std::string& why) {
  return Status(ErrorCode::kCorruption, "entry is not a command: " + why);
}

// One operand; false if `tag` is not one.
bool read_operand(Reader& r, std::uint8_t tag, Command& c) {
  for (const StringField& f : kStringFields) {
    if (f.tag != tag) continue;
    c.*f.member = r.string();
    return true;
  }
  for (const IntField& f : kIntFields) {
    if (f.tag != tag) continue;
    c.*f.member = unzigzag(r.varint());
    return true;
  }
  if (tag != kIdsTag) return false;
  const std::uint64_t n = r.count();
  c.ids.clear();
  c.ids.reserve(n);
  for (std::uint64_t i = 0; i < n && r.ok(); ++i)
    c.ids.push_back(r.string());
  return true;
}

}  // namespace

raft::Bytes encode_command(const Command& c) {
  std::string out;
  out.reserve(64 + c.req.size() + c.name.size() + c.session.size() + c.value.size());
  out.push_back(static_cast<char>(kBinaryFormat));
  std::size_t code = 0;
  while (code < kOps.size() && (code == 0 || kOps[code] != c.op))
    ++code;
  if (code == kOps.size()) {
    out.push_back(0);
    put_string(out, c.op);
  } else {
    out.push_back(static_cast<char>(code));
  }
  std::size_t count = c.ids.empty() ? 0 : 1;
  for (const StringField& f : kStringFields)
    count += (c.*f.member).empty() ? 0 : 1;
  for (const IntField& f : kIntFields)
    count += (c.*f.member).has_value() ? 1 : 0;
  put_varint(out, count);
  for (const StringField& f : kStringFields) {
    const std::string& s = c.*f.member;
    if (s.empty()) continue;
    out.push_back(static_cast<char>(f.tag));
    put_string(out, s);
  }
  for (const IntField& f : kIntFields) {
    const std::optional<std::int64_t>& v = c.*f.member;
    if (!v) continue;
    out.push_back(static_cast<char>(f.tag));
    put_varint(out, zigzag(*v));
  }
  if (!c.ids.empty()) {
    out.push_back(static_cast<char>(kIdsTag));
    put_varint(out, c.ids.size());
    for (const std::string& id : c.ids)
      put_string(out, id);
  }
  return out;
}

namespace command_detail {

Result<Command> decode_binary(std::string_view data) {
  Reader r(data);
  Command c;
  if (r.byte() != kBinaryFormat) return not_a_command("unknown format");
  const std::uint8_t code = r.byte();
  if (!r.ok()) return not_a_command("no operation");
  if (code >= kOps.size()) return not_a_command("unknown operation code " + std::to_string(code));
  c.op = code == 0 ? r.string() : std::string(kOps[code]);
  const std::uint64_t count = r.count();
  for (std::uint64_t i = 0; i < count && r.ok(); ++i) {
    const std::uint8_t tag = r.byte();
    if (!read_operand(r, tag, c))
      return not_a_command("unknown operand tag " + std::to_string(tag));
  }
  if (!r.ok()) return not_a_command("truncated");
  if (!r.done()) return not_a_command("bytes after the last operand");
  return c;
}

}  // namespace command_detail

}  // namespace raftlock::service
