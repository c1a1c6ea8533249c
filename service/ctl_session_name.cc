#include "service/ctl_session_name.h"

#include <unistd.h>

namespace raftlock::service {

std::string default_session_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return "raftlockctl@" + std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace raftlock::service
