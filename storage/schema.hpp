// storage/schema: creating and checking the schema (internal to storage/).
// The tables and why they are keyed so are explained at the top of schema.cpp.
#pragma once

#include <sqlite3.h>

#include <string>

namespace edgemes::storage::detail {

// Writer only: creates the schema in a fresh file (one transaction), migrates
// an older one, and refuses a file written by a newer build. Throws db_error.
// `window_ms` is the chunk width a new file gets (compaction.window_ms).
void create_or_migrate(sqlite3* db, int64_t window_ms);

// Reader: throws db_error unless the file's user_version is schema_version.
void check_schema(sqlite3* db, const std::string& path);

} // namespace edgemes::storage::detail
