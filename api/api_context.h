// What the route handlers reach: the services of this node.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

#include "api/http_types.h"
#include "api/metrics.h"
#include "api/router.h"
#include "service/cluster.h"
#include "service/lock_waits.h"
#include "service/proposals.h"
#include "service/reads.h"
#include "service/session_keeper.h"
#include "service/state_machine.h"
#include "service/watches.h"

namespace raftlock::api {

struct ApiContext {
  boost::asio::io_context& io;
  service::ClusterService& cluster;
  service::Proposals& proposals;
  service::Reads& reads;
  service::SqliteStateMachine& sm;
  service::LockWaits& waits;
  service::Watches& watches;
  service::SessionKeeper& keeper;
  HttpMetrics& metrics;
  std::chrono::milliseconds proposal_timeout{2000};
  const NodeMetrics* node_metrics = nullptr;  // Raft and lock activity for /metrics
  const raft::Node* node = nullptr;           // snapshot counts for /metrics
};

void add_cluster_routes(Router& r, ApiContext& ctx);
void add_session_routes(Router& r, ApiContext& ctx);
void add_lock_routes(Router& r, ApiContext& ctx);
void add_election_routes(Router& r, ApiContext& ctx);
// GET /ui (the status page) and GET /v1/cluster/overview (docs/ui.md).
void add_ui_routes(Router& r, ApiContext& ctx);

// X-Raft-Term, X-Raft-Leader and X-Raftlock-Index on every routed response.
void decorate(Response& res, const ApiContext& ctx);

// Forwards the request to the leader's HTTP address and relays its answer;
// 503 no_leader when no leader (or its address) is known.
void forward_to_leader(ApiContext& ctx, const Request& req, Reply reply);

// The error response for a Status from the service layer.
Response status_error(const Status& s, unsigned version);
// Runs `then` once a GET may read local state: at once with
// ?consistency=stale, else after a ReadIndex round (503/504 on failure).
void with_read(ApiContext& ctx, RequestContext& rc, std::function<void(bool stale)> then,
               Reply reply);

// The response for a failed proposal (CommandResult with ok == false).
Response command_error(const service::CommandResult& r, unsigned version);

}  // namespace raftlock::api
