#include "raft/host_port.h"

#include <charconv>

namespace raftlock::raft {

Result<HostPort> parse_host_port(std::string_view address) {
  auto invalid = [&](const char* what) {
    return Status(ErrorCode::kInvalidArgument,
                  "address \"" + std::string(address) + "\": " + what + " (want host:port)");
  };
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("no port");
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return invalid("empty host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return invalid("port is not a number in 0..65535");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string format_host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace raftlock::raft
