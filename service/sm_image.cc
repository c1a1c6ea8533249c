#include "service/sm_image.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "service/json_text.h"

namespace raftlock::service {

using nlohmann::json;

namespace {

struct Table {
  const char* name;
  const char* columns;
  int count;
};

// In restore order; every column is INTEGER or TEXT.
constexpr Table kTables[] = {
    {"sm_members", "id, peer, http, voter", 4},
    {"sm_sessions", "id, name, ttl_ms, lock_delay_ms, create_index, modify_index", 6},
    {"sm_locks", "key, data", 2},
    {"sm_requests", "req, applied_index, result", 3},
};

const Table* find_table(const std::string& name) {
  for (const Table& t : kTables)
    if (name == t.name) return &t;
  return nullptr;
}

std::string insert_sql(const Table& t) {
  std::string sql = std::string("INSERT INTO ") + t.name + " (" + t.columns + ") VALUES (";
  for (int c = 1; c <= t.count; ++c) {
    if (c > 1) sql += ", ";
    sql += "?";
    sql += std::to_string(c);
  }
  sql += ")";
  return sql;
}

}  // namespace

raft::Bytes build_sm_image(storage::Database& db, raft::Index applied, std::size_t size_hint) {
  std::string out;
  out.reserve(size_hint);
  out += json{{"format", "raftlock-sm"}, {"version", 1}, {"applied", applied}}.dump() + "\n";
  for (const Table& t : kTables) {
    auto st = db.prepare(std::string("SELECT ") + t.columns + " FROM " + t.name + " ORDER BY 1");
    if (!st) return {};  // the caller reports an empty image
    storage::Statement& q = st.value();
    while (true) {
      auto row = q.step();
      if (!row) return {};
      if (!*row) break;
      // ["table", value, ...]: written directly, the same text json::dump gives.
      out += "[\"";
      out += t.name;
      out += '"';
      for (int c = 0; c < t.count; ++c) {
        out += ',';
        if (q.column_type(c) == SQLITE_INTEGER) {
          json_text::append_int(out, q.column_int64(c));
        } else {
          json_text::append_string(out, q.column_text(c));
        }
      }
      out += "]\n";
    }
  }
  return out;
}

Status restore_sm_image(storage::Database& db, const raft::Bytes& image) {
  for (const Table& t : kTables) {
    Status s = db.exec(std::string("DELETE FROM ") + t.name);
    if (!s) return s;
  }
  std::map<const Table*, storage::Statement> inserts;
  std::string_view rest(image);
  bool header = true;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view text = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (text.empty()) continue;
    json line = json::parse(text, nullptr, false);
    if (header) {
      header = false;
      if (!line.is_object() || line.value("format", "") != "raftlock-sm" ||
          line.value("version", 0) != 1) {
        return Status(ErrorCode::kCorruption, "snapshot image has an unknown format");
      }
      continue;
    }
    if (!line.is_array() || line.empty() || !line[0].is_string()) {
      return Status(ErrorCode::kCorruption, "malformed snapshot image line");
    }
    const Table* t = find_table(line[0].get<std::string>());
    if (t == nullptr || static_cast<int>(line.size()) != t->count + 1) {
      return Status(ErrorCode::kCorruption, "snapshot image line for an unknown table");
    }
    auto ins = inserts.find(t);
    if (ins == inserts.end()) {
      auto st = db.prepare(insert_sql(*t));
      if (!st) return st.status();
      ins = inserts.emplace(t, std::move(st).value()).first;
    }
    storage::Statement& q = ins->second;
    std::vector<std::string> texts;  // bind_text does not copy
    texts.reserve(t->count);
    for (int c = 1; c <= t->count; ++c) {
      const json& v = line[c];
      Status b = Status::ok();
      if (v.is_number_integer()) {
        b = q.bind_int64(c, v.get<std::int64_t>());
      } else if (v.is_string()) {
        texts.push_back(v.get<std::string>());
        b = q.bind_text(c, texts.back());
      } else {
        return Status(ErrorCode::kCorruption, "snapshot image value of an unknown type");
      }
      if (!b) return b;
    }
    Status r = q.run();
    if (!r) return r;
  }
  if (header) return Status(ErrorCode::kCorruption, "empty snapshot image");
  return Status::ok();
}

}  // namespace raftlock::service
