// storage/database: opening the SQLite file, pragmas, schema and errors.
//
// The file has exactly one writer connection (storage::writer, owned by the
// writer actor) and any number of read-only connections (storage::reader,
// one per query actor). SQLite 3.40 has the WAL-reset race (fixed only in
// 3.51.3 / 3.50.7 / 3.44.6): to make it impossible, every write *and every
// checkpoint* runs on the writer connection; readers are opened with
// SQLITE_OPEN_READONLY (a read-only connection never checkpoints, not even
// when it is the last to close) plus PRAGMA query_only=1.
//
// Errors: every function in storage/ reports failure by throwing db_error,
// whose what() names the operation and carries SQLite's message; code() is
// SQLite's extended result code (e.g. SQLITE_FULL, SQLITE_INTERRUPT).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace edgemes::storage {

class db_error : public std::runtime_error {
public:
  db_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }
private:
  int code_;
};

// Pragmas applied to every connection (journal_mode=WAL on the writer's only).
// The defaults here are the config's (config::database_config takes them).
struct options {
  std::string synchronous = "NORMAL";   // OFF | NORMAL | FULL | EXTRA
  int64_t cache_size_kib = 64000;       // PRAGMA cache_size = -cache_size_kib
  int64_t busy_timeout_ms = 5000;
  bool foreign_keys = true;
  int64_t wal_autocheckpoint_pages = 1000;        // writer only
  int64_t journal_size_limit_bytes = 64LL << 20;  // writer only
};

// The layout of the history and the hot window (the writer's; config's
// `database` section takes its defaults from here, docs/CONFIG.md).
struct layout_options {
  int64_t window_ms = 120'000;       // chunk width; fixed when the file is created
  int64_t grace_ms = 30'000;         // how late a poll may arrive before its window is compacted
  int64_t status_every_ms = 30'000;  // an unchanged status row is rewritten at most this often
  // The head's memory limit (storage/head.hpp): past it the oldest
  // uncompacted polls are read back from the ingest log instead. 0 = none.
  int64_t head_limit_bytes = int64_t{64} << 20;
  // Called (on the opening thread) before an existing file is migrated from
  // schema version `from` to `to`: a migration rewrites the telemetry once.
  std::function<void(int from, int to)> before_migration;
};

// SQLite's heap in this process: every connection's page cache, statements
// and schema. Process-wide (SQLite's own counters).
struct heap_stats {
  int64_t used_bytes = 0;
  int64_t highwater_bytes = 0;   // since start
  int64_t soft_limit_bytes = 0;  // 0 = none
};
heap_stats sqlite_heap();

// A soft cap on SQLite's heap (sqlite3_soft_heap_limit64): past `bytes` the
// page caches of all connections recycle their least recently used pages
// instead of growing, whatever each connection's cache_size. 0 = no cap.
// Call before opening connections.
void set_sqlite_heap_limit(int64_t bytes);

// The schema version this build writes (PRAGMA user_version).
constexpr int schema_version = 5;

} // namespace edgemes::storage
