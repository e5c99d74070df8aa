// storage/sqlite_ext: the loadable extension for the stock sqlite3 shell, so
// a schema v4 file reads there as it reads in the daemon:
//   sqlite3 factory.db -cmd '.load /path/to/edgemes' "SELECT * FROM samples LIMIT 5"
// SQLite derives the entry point sqlite3_edgemes_init from the file name
// edgemes.so. The module is built from the same sources as edgemes_storage
// (storage/CMakeLists.txt, EDGEMES_SQLITE_EXTENSION) and is not linked against
// libsqlite3: every call goes through the routine table of the process that
// loads it, which SQLITE_EXTENSION_INIT2 stores in `sqlite3_api` here.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "storage/sql_functions.hpp"

extern "C" __attribute__((visibility("default"))) int
sqlite3_edgemes_init(sqlite3* db, char** error, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)error;
  return edgemes::storage::register_sql_functions(db);
}
