// The default name of a session raftlockctl creates: "raftlockctl@HOST:PID",
// so `raftlockctl sessions` shows who holds what.
#pragma once

#include <string>

namespace raftlock::service {

std::string default_session_name();

}  // namespace raftlock::service
