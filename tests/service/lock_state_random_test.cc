// A seeded random sequence of commands over a few sessions, locks and
// elections: the invariants hold after every entry, and a state rebuilt at
// random points from the records persistence wrote (only the keys
// take_effects() named as changed) answers every later command exactly as
// the original does.
#include <doctest/doctest.h>

#include <random>

#include "tests/service/lock_state_harness.h"

namespace raftlock::service::testing {
namespace {

constexpr std::uint64_t kSeed = 0x10C5;
constexpr int kSteps = 20000;

struct Gen {
  std::mt19937_64 rng{kSeed};
  int pick(int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); }
  bool chance(int percent) { return pick(100) < percent; }
  template <typename T>
  const T& one(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))];
  }
};

const std::vector<std::string> kSessions = {"s0", "s1", "s2", "s3", "s4"};
const std::vector<std::string> kLocks = {"m", "rw", "sem"};
const std::vector<std::string> kElections = {"e0", "e1"};

json random_command(Gen& g, const LockState& st, raft::Term term) {
  const std::string sid = g.chance(3) ? "ghost" : g.one(kSessions);
  const std::vector<std::int64_t> waits = {0, 0, 50, 400, 3000};
  switch (g.pick(20)) {
    case 0:
    case 1:
      return session_create(g.one(kSessions), g.chance(40) ? 300 : 0);
    case 2:
      return session_close(sid);
    case 3: {
      std::vector<std::string> ids;
      for (int n = g.pick(3) + 1; n > 0; --n)
        ids.push_back(g.one(kSessions));
      return session_expire(ids, g.chance(80) ? term : term - 1);
    }
    case 4:
    case 5:
    case 6:
    case 7: {
      const std::string name = g.one(kLocks);
      AcquireOpts o{.wait_ms = g.one(waits)};
      if (name == "rw") o.mode = g.chance(60) ? "shared" : "exclusive";
      if (name == "sem") o.limit = g.chance(90) ? 2 : 3;
      if (name == "m" && g.chance(5)) o.limit = 2;
      return lock_acquire(name, sid, o);
    }
    case 8:
    case 9:
      return campaign(g.one(kElections), sid, "v" + std::to_string(g.pick(5)), g.one(waits));
    case 10:
    case 11: {
      const std::string name = g.one(kLocks);
      std::int64_t token = -1;
      if (g.chance(50)) {
        const LockRecord* l = st.find_lock(lkey(name));
        const Holder* h = l ? l->holder(sid) : nullptr;
        token = h ? static_cast<std::int64_t>(h->token) : 0;
        if (g.chance(20)) token += 1;
      }
      return lock_release(name, sid, token);
    }
    case 12:
      return resign(g.one(kElections), sid);
    case 13:
    case 14:
      if (g.chance(70)) return lock_cancel(g.one(kLocks), sid, g.chance(50) ? "timeout" : "gone");
      return lock_cancel(g.one(kElections), sid, "timeout", "election");
    case 15:
      return proclaim(g.one(kElections), sid, "p" + std::to_string(g.pick(5)));
    case 16:
    case 17:
      return sweep();
    case 18:
      return {{"op", "noop"}};
    default:
      return g.chance(50) ? sweep() : json{{"op", "noop"}};
  }
}

// Every grant of an entry carries the entry's index, above every earlier
// entry's grant of that lock, and still holds once the entry is applied (no
// grant lands on a session the same entry ends).
void check_grants(const LockState& st, const LockEffects& e,
                  std::map<std::string, raft::Index>& last, raft::Index index) {
  std::map<std::string, raft::Index> before = last;
  std::set<std::pair<std::string, std::string>> seen;
  for (const LockEffects::Grant& g : e.grants) {
    CHECK(g.token == index);
    CHECK(g.token > before[g.key]);
    CHECK(seen.insert({g.key, g.session}).second);
    const LockRecord* l = st.find_lock(g.key);
    REQUIRE(l != nullptr);
    const Holder* h = l->holder(g.session);
    REQUIRE_MESSAGE(h != nullptr, g.session << " granted " << g.key << " but does not hold it");
    CHECK(h->token == g.token);
    last[g.key] = g.token;
  }
}

TEST_CASE("random commands keep the invariants; rebuilt states answer the same") {
  Gen g;
  LockState live;
  Stored stored;  // what persistence wrote, from take_effects().changed
  LockState shadow;
  bool have_shadow = false;
  std::map<std::string, raft::Index> last_token;
  raft::Index index = 0;
  raft::Term term = 1;
  std::int64_t now = 1000000;
  int rebuilds = 0, grants = 0, failures = 0, unanswered = 0;

  for (int step = 0; step < kSteps; ++step) {
    // Indexes jump now and then so tombstones leave the window.
    index += g.chance(2) ? static_cast<raft::Index>(g.pick(20000)) + 1 : 1;
    if (g.chance(1)) ++term;
    now += g.pick(250);
    json args = random_command(g, live, term);
    args["now"] = now;
    CAPTURE(step);
    CAPTURE(args.dump());

    const Command c = make_command(args);
    CommandResult r = live.apply(index, term, c);
    live.prune(index);
    const std::string inv = live.check_invariants();
    REQUIRE_MESSAGE(inv.empty(), inv);
    LockEffects e = live.take_effects();
    check_grants(live, e, last_token, index);
    grants += static_cast<int>(e.grants.size());
    failures += r.ok ? 0 : 1;
    stored.write(live, e.changed);

    if (have_shadow) {
      // Half the time nobody waits for the shadow's result: a grant then has
      // no body, and nothing else may differ.
      const bool answer = g.chance(50);
      CommandResult r2 = shadow.apply(index, term, c, answer);
      shadow.prune(index);
      REQUIRE(shadow.check_invariants() == "");
      CHECK(r2.ok == r.ok);
      CHECK(r2.error_code == r.error_code);
      CHECK(r2.error_message == r.error_message);
      if (answer || r2.body == r.body) {
        CHECK(r2.body == r.body);
      } else {
        CHECK(r2.body == json::object());
        CHECK(r.ok);  // only grants (of locks and elections) lose their body
        ++unanswered;
      }
      LockEffects e2 = shadow.take_effects();
      CHECK(e2.changed == e.changed);
      REQUIRE(e2.grants.size() == e.grants.size());
      for (std::size_t i = 0; i < e.grants.size(); ++i) {
        CHECK(e2.grants[i].key == e.grants[i].key);
        CHECK(e2.grants[i].session == e.grants[i].session);
        CHECK(e2.grants[i].token == e.grants[i].token);
      }
      REQUIRE(e2.waits_ended.size() == e.waits_ended.size());
      for (std::size_t i = 0; i < e.waits_ended.size(); ++i) {
        CHECK(e2.waits_ended[i].key == e.waits_ended[i].key);
        CHECK(e2.waits_ended[i].session == e.waits_ended[i].session);
        CHECK(e2.waits_ended[i].reason == e.waits_ended[i].reason);
      }
      // The records this entry changed every step; everything now and then.
      for (const std::string& key : e.changed) {
        if (key.rfind("s/", 0) == 0) {
          const SessionRecord* a = live.find_session(key.substr(2));
          const SessionRecord* b = shadow.find_session(key.substr(2));
          REQUIRE((a == nullptr) == (b == nullptr));
          if (a != nullptr) CHECK(live.session_json(*a) == shadow.session_json(*b));
        } else {
          const LockRecord* a = live.find_lock(key);
          const LockRecord* b = shadow.find_lock(key);
          REQUIRE((a == nullptr) == (b == nullptr));
          if (a != nullptr) CHECK(LockState::encode_lock(*a) == LockState::encode_lock(*b));
        }
      }
      if (step % 10 == 0) REQUIRE(observe(shadow, now) == observe(live, now));
    }
    // The persisted records always describe the live state.
    if (step % 97 == 0)
      REQUIRE(observe(live, now) == [&] {
        LockState loaded;
        stored.load_into(loaded);
        return observe(loaded, now);
      }());
    if (g.chance(1)) {  // rebuild the shadow from storage
      stored.load_into(shadow);
      REQUIRE(shadow.check_invariants() == "");
      REQUIRE(observe(shadow, now) == observe(live, now));
      have_shadow = true;
      ++rebuilds;
    }
  }
  MESSAGE("rebuilds " << rebuilds << ", grants " << grants << ", failed commands " << failures
                      << ", final index " << index);
  CHECK(rebuilds > 50);
  CHECK(grants > 1000);
  CHECK(unanswered > 100);
}

}  // namespace
}  // namespace raftlock::service::testing
