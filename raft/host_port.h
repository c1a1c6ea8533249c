// "host:port" strings: how nodes name the addresses they listen on, in their
// configuration and in the peer protocol's handshake. An IPv6 host is written
// in brackets ("[::1]:7001"), as in URLs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raft/result.h"

namespace raftlock::raft {

struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;
};

// Splits at the last ':'. kInvalidArgument, naming what is wrong, for an empty
// host, a missing or non-numeric port, or a port above 65535.
Result<HostPort> parse_host_port(std::string_view address);

// The inverse of parse_host_port: brackets a host that contains ':'.
std::string format_host_port(const std::string& host, std::uint16_t port);

}  // namespace raftlock::raft
