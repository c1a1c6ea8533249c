// raftlockd: one node of a raftlock cluster. With no flags, a single-node
// cluster on 127.0.0.1:8080 with its data in ./raftlock-data.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>

#include "service/allocator.h"
#include "service/backup.h"
#include "service/daemon.h"
#include "service/options.h"
#include "service/restore.h"

int main(int argc, char** argv) {
  using namespace raftlock;
  bool help = false;
  std::string help_text;
  auto opts = service::parse_daemon_options(argc, argv, &help, &help_text);
  if (!opts) {
    std::fprintf(stderr, "raftlockd: %s\n(see raftlockd --help)\n",
                 opts.status().message().c_str());
    return 2;
  }
  if (help) {
    std::printf("usage: raftlockd [options]\n%s", help_text.c_str());
    return 0;
  }
  if (opts->check_config) {
    std::printf("%s", service::describe_options(*opts).c_str());
    return 0;
  }
  if (!opts->backup_to.empty() || !opts->restore_from.empty()) {
    auto r = opts->backup_to.empty() ? service::restore_data_dir(*opts)
                                     : service::backup_database(opts->data_dir, opts->backup_to);
    if (!r) {
      std::fprintf(stderr, "raftlockd: %s\n", r.status().to_string().c_str());
      return 1;
    }
    std::printf("%s\n", r->c_str());
    return 0;
  }
  service::set_up_allocator();
  boost::asio::io_context io(1);
  auto daemon = service::Daemon::create(io, *opts);
  if (!daemon) {
    std::fprintf(stderr, "raftlockd: %s\n", daemon.status().to_string().c_str());
    return 1;
  }
  Status s = daemon.value()->start();
  if (!s) {
    std::fprintf(stderr, "raftlockd: %s\n", s.to_string().c_str());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    // Every write that was acknowledged is already durable (fsync before
    // answer); stopping only has to close listeners and connections.
    daemon.value()->shutdown("signal " + std::to_string(sig) + ", stopping");
    io.stop();
  });
  io.run();
  return 0;
}
