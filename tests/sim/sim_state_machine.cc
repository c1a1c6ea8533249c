#include "tests/sim/sim_state_machine.h"

#include <boost/endian/conversion.hpp>
#include <cstring>
#include <string>

namespace raftlock::sim {

// Image format (test-only, never stored on a real disk): u64 entry count, then
// per entry u64 index, u64 term, u8 type, u32 data length, data; then, if the
// lock replica holds anything, u32 length and its serialized state (JSON).
// Big-endian.
namespace {

template <typename T>
void put(raft::Bytes& out, T v) {
  boost::endian::native_to_big_inplace(v);
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

template <typename T>
bool get(const raft::Bytes& in, std::size_t* pos, T* v) {
  if (in.size() - *pos < sizeof(T)) return false;
  std::memcpy(v, in.data() + *pos, sizeof(T));
  boost::endian::big_to_native_inplace(*v);
  *pos += sizeof(T);
  return true;
}

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kCorruption, "state machine image: " + what);
}

}  // namespace

Result<StateMachine> StateMachine::from_image(const raft::Bytes& image, raft::NodeId node,
                                              LockMutations m) {
  StateMachine sm(node, m);
  if (image.empty()) return sm;
  std::size_t pos = 0;
  std::uint64_t count = 0;
  if (!get(image, &pos, &count)) return corrupt("truncated count");
  for (std::uint64_t k = 0; k < count; ++k) {
    raft::Entry e;
    std::uint8_t type = 0;
    std::uint32_t len = 0;
    if (!get(image, &pos, &e.index) || !get(image, &pos, &e.term) || !get(image, &pos, &type) ||
        !get(image, &pos, &len)) {
      return corrupt("truncated entry header at entry " + std::to_string(k));
    }
    if (image.size() - pos < len) return corrupt("truncated data at entry " + std::to_string(k));
    if (type > static_cast<std::uint8_t>(raft::EntryType::kConfChange)) {
      return corrupt("unknown entry type " + std::to_string(type));
    }
    if (e.index != sm.applied() + 1) {
      return corrupt("entry " + std::to_string(e.index) + " after " + std::to_string(sm.applied()) +
                     " is not consecutive");
    }
    e.type = static_cast<raft::EntryType>(type);
    e.data.assign(image, pos, len);
    pos += len;
    sm.apply(e);
  }
  std::string lock_image;
  if (pos != image.size()) {
    std::uint32_t len = 0;
    if (!get(image, &pos, &len) || image.size() - pos != len) return corrupt("trailing bytes");
    lock_image.assign(image, pos, len);
  }
  if (Status s = sm.locks_.load_and_compare(lock_image); !s) {
    return corrupt(s.message());
  }
  return sm;
}

const LockOutcome& StateMachine::apply(const raft::Entry& e) {
  entries_.push_back(AppliedEntry{e.index, e.term, e.type, e.data});
  if (e.type == raft::EntryType::kNormal) payloads_.emplace(e.data, e.index);
  outcomes_.push_back(locks_.apply(e));
  return outcomes_.back();
}

raft::Bytes StateMachine::image() const {
  raft::Bytes out;
  put<std::uint64_t>(out, entries_.size());
  for (const AppliedEntry& e : entries_) {
    put<std::uint64_t>(out, e.index);
    put<std::uint64_t>(out, e.term);
    put<std::uint8_t>(out, static_cast<std::uint8_t>(e.type));
    put<std::uint32_t>(out, static_cast<std::uint32_t>(e.data.size()));
    out.append(e.data);
  }
  const std::string lock_image = locks_.image();
  if (!lock_image.empty()) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(lock_image.size()));
    out.append(lock_image);
  }
  return out;
}

}  // namespace raftlock::sim
