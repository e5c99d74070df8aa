// storage/reader_internal: the reader's prepared statements and decode
// buffers, shared by reader.cpp (open, catalogue and state queries) and
// reader_scan.cpp (scan and the queries built on it); internal to storage/.
#pragma once

#include "storage/connection.hpp"
#include "storage/reader.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgemes::storage {

namespace detail {

// One point of a scan's hot window: ts and where its values are (one double
// per requested slot) in scan_statements::hot_values.
struct hot_point {
  int64_t ts;
  size_t at;
};

// What reader::scan reads with: its statements and its decode buffers, reused
// by every call.
struct scan_statements {
  stmt_ptr compaction, oldest_chunk, chunk, log, last_ok;
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> columns;
  std::vector<double> hot_values, chunk_values;
  std::vector<hot_point> hot;

  explicit scan_statements(sqlite3* db);
};

} // namespace detail

struct reader::statements {
  detail::stmt_ptr begin, commit, rollback;
  detail::stmt_ptr lines, machines, machine, metrics, states;
  detail::scan_statements scan;

  explicit statements(sqlite3* db);
};

} // namespace edgemes::storage
