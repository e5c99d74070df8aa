// storage/mes_reads: the MES layer's reads — products, their BOM revisions
// and items, work orders and their runs — on a query worker's read-only
// connection (storage::reader). The writes are storage/mes.hpp's.
//
// Each function is one or two indexed lookups (by ident, by revision, by
// line); wrap several in one read_snapshot (storage/dashboard.hpp) for a reply
// that shows one committed state. A revision is read whole or not at all: the
// import that wrote it was one transaction.
//
// Not thread-safe: like its reader, one per thread. Errors throw db_error
// (SQLITE_INTERRUPT past the reader's deadline).
#pragma once

#include "storage/mes.hpp"
#include "storage/reader.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgemes::storage {

struct product_info {
  std::string ident;
  std::string name;
  int64_t created_ms = 0;
  int64_t revisions = 0;        // BOM revisions imported
  int64_t latest_revision = 0;  // 0 = none
};

struct bom_revision_info {
  int64_t revision = 0;
  int64_t imported_ms = 0;
  std::string source;
  int64_t items = 0;
  int64_t components = 0;
  int64_t work_orders = 0;      // orders made with this revision
};

struct work_order_run {
  int64_t start_ms = 0;
  int64_t end_ms = 0;           // 0 = running (open)
};

struct work_order_info {
  std::string ident;
  std::string product;
  std::string product_name;
  int64_t revision = 0;
  std::string line;
  int64_t quantity = 0;
  std::string status;           // created | running | paused | completed
  int64_t created_ms = 0;
  int64_t completed_ms = 0;     // 0 = not completed
  std::vector<work_order_run> runs;  // oldest first
};

// Every product, by ident.
std::vector<product_info> products(reader& db);
std::optional<product_info> product(reader& db, const std::string& ident);
// The product's revisions, oldest first (empty for an unknown product).
std::vector<bom_revision_info> bom_revisions(reader& db, const std::string& product);
// One revision (0 = the latest), or nothing.
std::optional<bom_revision_info> bom_revision(reader& db, const std::string& product,
                                              int64_t revision);
// Its items in file order (designators split at spaces).
std::vector<bom_item_row> bom_items(reader& db, const std::string& product, int64_t revision);

// Work orders, newest first, optionally of one line and/or status, at most `limit`.
std::vector<work_order_info> work_orders(reader& db, const std::optional<std::string>& line,
                                         const std::optional<std::string>& status,
                                         int64_t limit);
std::optional<work_order_info> work_order(reader& db, const std::string& ident);

} // namespace edgemes::storage
