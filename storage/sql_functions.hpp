// storage/sql_functions: SQL access to the compressed telemetry of schema v4,
// for the views `samples` and `samples_10s` (storage/schema.cpp).
//
// Two eponymous table-valued functions decode the binary columns:
//   edgemes_chunk(data)  -> rows (ts, slot, value)              a chunks.data
//   edgemes_log(data)    -> rows (machine_id, ts, slot, value)  an ingest_log.data
// one row per present value, oldest first (then by slot); malformed bytes
// raise an SQL error naming the function, never a crash.
//
// The daemon registers them on each of its connections. The stock sqlite3
// shell gets them from the loadable extension built from the same sources
// (storage/sqlite_ext.cpp -> edgemes.so):
//   sqlite3 factory.db -cmd '.load /path/to/edgemes' "SELECT * FROM samples LIMIT 5"
#pragma once

struct sqlite3;

namespace edgemes::storage {

// Registers edgemes_chunk and edgemes_log on `db`. Returns an SQLite result code.
int register_sql_functions(sqlite3* db);

} // namespace edgemes::storage
