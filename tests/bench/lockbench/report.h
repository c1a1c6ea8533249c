// The JSON report line: pieces shared by every scenario, and the fields every
// line ends with (label, server description, client description).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "options.h"

namespace raftlock::bench {

// Up to `max` distinct messages, sorted.
std::vector<std::string> error_samples(std::vector<std::string> errors, std::size_t max = 5);

nlohmann::ordered_json endpoints_json(const std::vector<Endpoint>& endpoints);

// Appends "label", "server" and "client" to a scenario's result.
void finish_report(nlohmann::ordered_json& result, const Options& opts,
                   const nlohmann::json& server);

// Writes the line to stdout and, with --json-out, appends it to that file.
// Returns false if the file could not be written.
bool emit_report(const nlohmann::ordered_json& result, const Options& opts);

}  // namespace raftlock::bench
