#include "service/ctl_table.h"

#include <algorithm>

namespace raftlock::service {

std::string Table::render() const {
  std::vector<std::size_t> width(header_.size(), 0);
  auto measure = [&width](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].empty() ? 1 : row[i].size());
  };
  measure(header_);
  for (const auto& r : rows_)
    measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string text;
    for (std::size_t i = 0; i < width.size(); ++i) {
      std::string c = i < row.size() && !row[i].empty() ? row[i] : "-";
      if (i + 1 < width.size()) c.resize(width[i] + 2, ' ');
      text += c;
    }
    out += text + "\n";
  };
  line(header_);
  for (const auto& r : rows_)
    line(r);
  return out;
}

void Table::print(std::FILE* out) const {
  std::fputs(render().c_str(), out);
}

std::string cell(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v)
      s += (s.empty() ? "" : ",") + cell(e);
    return s;
  }
  return v.dump();
}

nlohmann::json field(const nlohmann::json& o, const char* key) {
  return o.is_object() && o.contains(key) ? o[key] : nlohmann::json(nullptr);
}

}  // namespace raftlock::service
