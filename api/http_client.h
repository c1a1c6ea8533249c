// A one-shot asynchronous HTTP/1.1 client (Boost.Beast): connect, send one
// request, read one response, close. Used to forward administrative writes
// from a follower to the leader, and by tools.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "api/http_types.h"
#include "raft/result.h"

namespace raftlock::api {

using ResponseHandler = std::function<void(Result<Response>)>;

// Sends `req` to host:port ("host:port" in `address`). kUnavailable when the
// connection fails, kTimeout when no answer came within `timeout`.
void async_http_request(boost::asio::io_context& io, const std::string& address, Request req,
                        std::chrono::milliseconds timeout, ResponseHandler done);

}  // namespace raftlock::api
