// Aligned text tables for raftlockctl's human-readable output: a header row
// in capitals, columns separated by two spaces, "-" for empty cells.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace raftlock::service {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}

  // REQUIRES: cells.size() == the header's size.
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }

  std::string render() const;
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// A JSON value as a table cell: strings unquoted, null as "-", arrays
// comma-separated, anything else as compact JSON.
std::string cell(const nlohmann::json& v);

// o[key] when `o` is an object that has it, else null (answers are read
// leniently: a missing field prints as "-").
nlohmann::json field(const nlohmann::json& o, const char* key);

}  // namespace raftlock::service
