#include "raft/conf_change.h"

#include <boost/endian/conversion.hpp>
#include <cstring>
#include <limits>
#include <string>

#include "raft/assert.h"

namespace raftlock::raft {

// Encoding of a ConfChangeEntry, version 1. Integers are big-endian and fixed
// width; sets are written in ascending order.
//
//   u8  version (= 1)
//   u8  change type (ConfChangeType)
//   u64 change node
//   u32 context length, then that many bytes
//   u32 voter count, then that many u64 node ids, strictly ascending
//   u32 learner count, then that many u64 node ids, strictly ascending
//
// Nothing may follow. A decoder for a later version must still accept version 1.
namespace {

constexpr std::uint8_t kVersion = 1;

template <typename T>
void put(Bytes& out, T v) {
  boost::endian::native_to_big_inplace(v);
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

void put_set(Bytes& out, const std::set<NodeId>& ids) {
  RAFTLOCK_ASSERT(ids.size() <= std::numeric_limits<std::uint32_t>::max());
  put<std::uint32_t>(out, static_cast<std::uint32_t>(ids.size()));
  for (NodeId id : ids)
    put<std::uint64_t>(out, id);
}

// Reads from a buffer, refusing to read past its end.
class Reader {
 public:
  explicit Reader(const Bytes& data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }

  template <typename T>
  bool get(T* v) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(v, data_.data() + pos_, sizeof(T));
    boost::endian::big_to_native_inplace(*v);
    pos_ += sizeof(T);
    return true;
  }

  bool get_bytes(std::size_t n, Bytes* out) {
    if (remaining() < n) return false;
    out->assign(data_, pos_, n);
    pos_ += n;
    return true;
  }

 private:
  const Bytes& data_;
  std::size_t pos_ = 0;
};

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kCorruption, "conf change entry: " + what);
}

// The count is checked against the bytes left before anything is allocated, so
// a corrupt count cannot make us reserve gigabytes.
Status get_set(Reader& r, const char* name, std::set<NodeId>* ids) {
  std::uint32_t n = 0;
  if (!r.get(&n)) return corrupt(std::string("truncated ") + name + " count");
  if (r.remaining() / sizeof(std::uint64_t) < n) {
    return corrupt(std::string(name) + " count " + std::to_string(n) + " exceeds the data");
  }
  NodeId prev = kNoNode;
  for (std::uint32_t k = 0; k < n; ++k) {
    NodeId id = kNoNode;
    if (!r.get(&id)) return corrupt(std::string("truncated ") + name);
    if (id == kNoNode) return corrupt(std::string(name) + " contains node 0");
    if (id <= prev) return corrupt(std::string(name) + " not strictly ascending");
    ids->insert(ids->end(), id);
    prev = id;
  }
  return Status::ok();
}

Status invalid(const ConfChange& cc, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument,
                "conf change on node " + std::to_string(cc.node) + ": " + why);
}

}  // namespace

Bytes encode_conf_change_entry(const ConfChangeEntry& e) {
  Bytes out;
  out.reserve(2 + 8 + 4 + e.change.context.size() + 4 + 8 * e.result.voters.size() + 4 +
              8 * e.result.learners.size());
  put<std::uint8_t>(out, kVersion);
  put<std::uint8_t>(out, static_cast<std::uint8_t>(e.change.type));
  put<std::uint64_t>(out, e.change.node);
  RAFTLOCK_ASSERT(e.change.context.size() <= std::numeric_limits<std::uint32_t>::max());
  put<std::uint32_t>(out, static_cast<std::uint32_t>(e.change.context.size()));
  out.append(e.change.context);
  put_set(out, e.result.voters);
  put_set(out, e.result.learners);
  return out;
}

Result<ConfChangeEntry> decode_conf_change_entry(const Bytes& data) {
  Reader r(data);
  std::uint8_t version = 0;
  if (!r.get(&version)) return corrupt("empty");
  if (version != kVersion) return corrupt("unknown version " + std::to_string(version));

  ConfChangeEntry e;
  std::uint8_t type = 0;
  if (!r.get(&type)) return corrupt("truncated type");
  if (type > static_cast<std::uint8_t>(ConfChangeType::kRemoveNode)) {
    return corrupt("unknown change type " + std::to_string(type));
  }
  e.change.type = static_cast<ConfChangeType>(type);
  if (!r.get(&e.change.node)) return corrupt("truncated node");

  std::uint32_t context_len = 0;
  if (!r.get(&context_len)) return corrupt("truncated context length");
  if (!r.get_bytes(context_len, &e.change.context)) return corrupt("truncated context");

  if (Status s = get_set(r, "voters", &e.result.voters); !s) return s;
  if (Status s = get_set(r, "learners", &e.result.learners); !s) return s;
  for (NodeId id : e.result.learners) {
    if (e.result.voters.count(id)) {
      return corrupt("node " + std::to_string(id) + " is both voter and learner");
    }
  }
  if (r.remaining() != 0) {
    return corrupt(std::to_string(r.remaining()) + " trailing bytes");
  }
  return e;
}

// Single-server changes (T§4.1): each adds or removes one server, so any
// majority of the old configuration overlaps any majority of the new one.
Result<ConfState> apply_conf_change(const ConfState& conf, const ConfChange& cc) {
  if (cc.node == kNoNode) return invalid(cc, "node id 0 is not a node");
  ConfState next = conf;
  switch (cc.type) {
    case ConfChangeType::kBootstrap:
      return invalid(cc, "bootstrap only founds a cluster; it is not a change");
    case ConfChangeType::kAddLearner:
      if (conf.voters.count(cc.node)) return invalid(cc, "already a voter");
      if (conf.learners.count(cc.node)) return invalid(cc, "already a learner");
      next.learners.insert(cc.node);
      return next;
    case ConfChangeType::kAddVoter:
      if (conf.voters.count(cc.node)) return invalid(cc, "already a voter");
      next.learners.erase(cc.node);  // promotes a learner (T§4.2.1)
      next.voters.insert(cc.node);
      return next;
    case ConfChangeType::kRemoveNode:
      if (!conf.contains(cc.node)) return invalid(cc, "not a member");
      // With no voter left, nothing could ever be committed again.
      if (conf.voters.count(cc.node) && conf.voters.size() == 1) {
        return invalid(cc, "cannot remove the last voter");
      }
      next.voters.erase(cc.node);
      next.learners.erase(cc.node);
      return next;
  }
  return invalid(cc, "unknown change type " + std::to_string(static_cast<int>(cc.type)));
}

StorageWrite bootstrap_write(const ConfState& voters, const Bytes& context) {
  RAFTLOCK_ASSERT_MSG(!voters.voters.empty(), "bootstrap needs at least one voter");
  RAFTLOCK_ASSERT_MSG(!voters.contains(kNoNode), "node id 0 is not a node");
  ConfChangeEntry cce;
  cce.change.type = ConfChangeType::kBootstrap;
  cce.change.node = kNoNode;
  cce.change.context = context;
  cce.result = voters;

  StorageWrite w;
  w.entries.push_back(Entry{1, 1, EntryType::kConfChange, encode_conf_change_entry(cce)});
  w.hard_state = HardState{1, kNoNode, 1};
  return w;
}

}  // namespace raftlock::raft
