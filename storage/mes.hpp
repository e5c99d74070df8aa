// storage/mes: the MES layer's writes — products with their BOM revisions,
// and work orders with their runs (schema v5, storage/schema.cpp).
//
// Every function here runs on THE writer connection (storage::writer), on the
// writer actor's thread, inside the one transaction the writer actor opens
// for a write job (actors/messages.hpp, write_job; writer::write_transaction).
// None opens or ends a transaction itself, so a job that calls several of
// them, or gives up half-way, commits all of it or nothing.
//
// Refusals a user can act on (an unknown product, an illegal transition, a
// second running order on a line) are values: `mes_status` and a message
// naming what is wrong; they write nothing. SQLite failures (disk full, I/O)
// throw db_error; the caller's transaction is then rolled back.
//
// The work-order life cycle (docs/MES.md), each transition with the function
// that makes it:
//
//   (none)  --create_work_order-->  created
//   created --start-->  running     a run opens: (start_ms, end_ms NULL)
//   paused  --start-->  running     another run opens
//   running --pause-->  paused      the open run ends at now
//   running --complete--> completed the open run ends; completed_ms = now
//   paused  --complete--> completed completed_ms = now
//
// Anything else is illegal_transition, naming the current status. A start is
// refused with line_busy (naming the running order) while another order runs
// on the same line; the schema's partial unique index enforces the same.
//
// Not thread-safe: like the writer connection, one thread.
#pragma once

#include "storage/writer.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgemes::storage {

enum class mes_status {
  ok,
  unknown_product,     // no product with that id
  unknown_revision,    // the product has no such BOM revision (or none at all)
  unknown_line,        // the line is not in the file (not configured)
  unknown_order,       // no work order with that id
  order_exists,        // create: the id is taken
  illegal_transition,  // start/pause/complete from a status that does not allow it
  line_busy,           // start: another order runs on the line
};

// One item of a BOM as stored: mes/bom_csv's item, copied by the caller (the
// storage module depends on SQLite only).
struct bom_item_row {
  std::string part_number;
  int64_t quantity = 0;                  // > 0
  std::vector<std::string> designators;  // may be empty (not placed by a machine)
  std::string description;
  std::string side;                      // "", "top" or "bottom"
  int64_t csv_line = 0;
};

struct bom_import {
  std::string product;   // ident; created on its first import
  std::string name;      // the product's name: set when given, else kept (new: = ident)
  std::string source;    // the file's name, "" = not given
  int64_t now_ms = 0;
  std::vector<bom_item_row> items;  // REQUIRES: not empty, as bom_csv gives them
};

struct imported_bom {
  int64_t revision = 0;     // 1 for a product's first import, then 2, 3, ...
  int64_t items = 0;
  int64_t components = 0;   // sum of the quantities
  bool product_created = false;
};

// Adds the product's next BOM revision with every item (creating the product
// on its first import). Throws db_error.
imported_bom import_bom(writer& db, const bom_import& in);

struct work_order_def {
  std::string ident;
  std::string product;
  std::string line;
  int64_t quantity = 0;   // REQUIRES: > 0
  int64_t revision = 0;   // 0 = the product's latest
  int64_t now_ms = 0;
};

struct mes_result {
  mes_status status = mes_status::ok;
  std::string message;   // empty when ok; else what is wrong, naming ids and statuses
  int64_t revision = 0;  // create_work_order: the revision the order got
  std::string status_before;  // transitions: the order's status before (or now, when refused)
  std::string status_after;   // transitions: its status after (ok only)
};

// Creates a work order with status 'created' (see the file comment).
mes_result create_work_order(writer& db, const work_order_def& def);

enum class work_order_action { start, pause, complete };
const char* to_string(work_order_action a);

// Moves the order along the life cycle at `now_ms` (runs never overlap and
// start strictly after the previous run's start).
mes_result work_order_transition(writer& db, const std::string& ident, work_order_action action,
                                 int64_t now_ms);

} // namespace edgemes::storage
