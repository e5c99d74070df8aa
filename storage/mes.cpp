// storage/mes: see mes.hpp. Statements are prepared per call: a write job is
// rare (an import, a button press), and a BOM's thousands of items reuse one
// prepared INSERT within the call.
#include "storage/mes.hpp"

#include "storage/writer_detail.hpp"

#include <algorithm>

namespace edgemes::storage {

using detail::bind_text;
using detail::next_row;
using detail::prepare;
using detail::step_done;
using detail::stmt_ptr;

namespace {

// The id of the row whose `ident` matches, if any ("SELECT id FROM t WHERE ident=?").
std::optional<int64_t> id_of(sqlite3* db, const char* sql, const std::string& ident,
                             const char* what) {
  stmt_ptr s = prepare(db, sql);
  bind_text(s.get(), 1, ident);
  if (!next_row(db, s.get(), what))
    return std::nullopt;
  return sqlite3_column_int64(s.get(), 0);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty())
      out += ' ';
    out += s;
  }
  return out;
}

mes_result refuse(mes_status status, std::string message) {
  mes_result r;
  r.status = status;
  r.message = std::move(message);
  return r;
}

} // namespace

const char* to_string(work_order_action a) {
  switch (a) {
    case work_order_action::start: return "start";
    case work_order_action::pause: return "pause";
    case work_order_action::complete: return "complete";
  }
  return "?";
}

imported_bom import_bom(writer& w, const bom_import& in) {
  sqlite3* db = w.handle();
  imported_bom out;
  auto product = id_of(db, "SELECT id FROM products WHERE ident=?", in.product, "bom: product");
  if (!product) {
    stmt_ptr s = prepare(db, "INSERT INTO products(ident, name, created_ms) VALUES(?,?,?)");
    bind_text(s.get(), 1, in.product);
    bind_text(s.get(), 2, in.name.empty() ? in.product : in.name);
    sqlite3_bind_int64(s.get(), 3, in.now_ms);
    step_done(db, s.get(), "bom: create the product");
    product = sqlite3_last_insert_rowid(db);
    out.product_created = true;
  } else if (!in.name.empty()) {
    stmt_ptr s = prepare(db, "UPDATE products SET name=? WHERE id=?");
    bind_text(s.get(), 1, in.name);
    sqlite3_bind_int64(s.get(), 2, *product);
    step_done(db, s.get(), "bom: rename the product");
  }
  {
    stmt_ptr s = prepare(
        db, "SELECT coalesce(max(revision), 0) + 1 FROM bom_revisions WHERE product_id=?");
    sqlite3_bind_int64(s.get(), 1, *product);
    next_row(db, s.get(), "bom: next revision");
    out.revision = sqlite3_column_int64(s.get(), 0);
  }
  for (const auto& item : in.items)
    out.components += item.quantity;
  out.items = static_cast<int64_t>(in.items.size());
  int64_t revision_id = 0;
  {
    stmt_ptr s = prepare(db, "INSERT INTO bom_revisions(product_id, revision, imported_ms, "
                             "source, items, components) VALUES(?,?,?,?,?,?)");
    sqlite3_bind_int64(s.get(), 1, *product);
    sqlite3_bind_int64(s.get(), 2, out.revision);
    sqlite3_bind_int64(s.get(), 3, in.now_ms);
    bind_text(s.get(), 4, in.source);
    sqlite3_bind_int64(s.get(), 5, out.items);
    sqlite3_bind_int64(s.get(), 6, out.components);
    step_done(db, s.get(), "bom: add the revision");
    revision_id = sqlite3_last_insert_rowid(db);
  }
  stmt_ptr s = prepare(db, "INSERT INTO bom_items(revision_id, position, part_number, quantity, "
                           "designators, description, side, csv_line) VALUES(?,?,?,?,?,?,?,?)");
  int64_t position = 0;
  std::string designators;  // bound SQLITE_STATIC: lives until the step
  for (const auto& item : in.items) {
    designators = join(item.designators);
    sqlite3_bind_int64(s.get(), 1, revision_id);
    sqlite3_bind_int64(s.get(), 2, ++position);
    bind_text(s.get(), 3, item.part_number);
    sqlite3_bind_int64(s.get(), 4, item.quantity);
    bind_text(s.get(), 5, designators);
    bind_text(s.get(), 6, item.description);
    bind_text(s.get(), 7, item.side);
    sqlite3_bind_int64(s.get(), 8, item.csv_line);
    step_done(db, s.get(), "bom: add an item");
  }
  return out;
}

mes_result create_work_order(writer& w, const work_order_def& def) {
  sqlite3* db = w.handle();
  if (id_of(db, "SELECT id FROM work_orders WHERE ident=?", def.ident, "work order: id"))
    return refuse(mes_status::order_exists, "work order '" + def.ident + "' exists already");
  auto product = id_of(db, "SELECT id FROM products WHERE ident=?", def.product,
                       "work order: product");
  if (!product)
    return refuse(mes_status::unknown_product,
                  "no product '" + def.product + "': import its BOM first");
  auto line = id_of(db, "SELECT id FROM lines WHERE ident=?", def.line, "work order: line");
  if (!line)
    return refuse(mes_status::unknown_line, "no line '" + def.line + "'");
  int64_t revision_id = 0;
  mes_result out;
  {
    stmt_ptr s = prepare(db, def.revision > 0
                                 ? "SELECT id, revision FROM bom_revisions "
                                   "WHERE product_id=?1 AND revision=?2"
                                 : "SELECT id, revision FROM bom_revisions "
                                   "WHERE product_id=?1 ORDER BY revision DESC LIMIT 1");
    sqlite3_bind_int64(s.get(), 1, *product);
    if (def.revision > 0)
      sqlite3_bind_int64(s.get(), 2, def.revision);
    if (!next_row(db, s.get(), "work order: revision"))
      return refuse(mes_status::unknown_revision,
                    def.revision > 0 ? "product '" + def.product + "' has no BOM revision " +
                                           std::to_string(def.revision)
                                     : "product '" + def.product + "' has no BOM revision");
    revision_id = sqlite3_column_int64(s.get(), 0);
    out.revision = sqlite3_column_int64(s.get(), 1);
  }
  stmt_ptr s = prepare(db, "INSERT INTO work_orders(ident, product_id, bom_revision_id, line_id, "
                           "quantity, status, created_ms) VALUES(?,?,?,?,?,'created',?)");
  bind_text(s.get(), 1, def.ident);
  sqlite3_bind_int64(s.get(), 2, *product);
  sqlite3_bind_int64(s.get(), 3, revision_id);
  sqlite3_bind_int64(s.get(), 4, *line);
  sqlite3_bind_int64(s.get(), 5, def.quantity);
  sqlite3_bind_int64(s.get(), 6, def.now_ms);
  step_done(db, s.get(), "work order: create");
  out.status_after = "created";
  return out;
}

namespace {

// The transition table of mes.hpp: the status `a` leads to from `from`, or
// nullptr when it is illegal.
const char* next_status(const std::string& from, work_order_action a) {
  switch (a) {
    case work_order_action::start:
      return from == "created" || from == "paused" ? "running" : nullptr;
    case work_order_action::pause:
      return from == "running" ? "paused" : nullptr;
    case work_order_action::complete:
      return from == "running" || from == "paused" ? "completed" : nullptr;
  }
  return nullptr;
}

} // namespace

mes_result work_order_transition(writer& w, const std::string& ident, work_order_action action,
                                 int64_t now_ms) {
  sqlite3* db = w.handle();
  int64_t order = 0, line = 0;
  std::string status;
  {
    stmt_ptr s = prepare(db, "SELECT id, line_id, status FROM work_orders WHERE ident=?");
    bind_text(s.get(), 1, ident);
    if (!next_row(db, s.get(), "work order: find"))
      return refuse(mes_status::unknown_order, "no work order '" + ident + "'");
    order = sqlite3_column_int64(s.get(), 0);
    line = sqlite3_column_int64(s.get(), 1);
    status = detail::column_text(s.get(), 2);
  }
  const char* next = next_status(status, action);
  if (!next) {
    auto r = refuse(mes_status::illegal_transition,
                    "work order '" + ident + "' is " + status + ": it cannot " +
                        to_string(action) + " (" +
                        (status == "completed" ? "a completed order is final"
                         : status == "running" ? "it is running already"
                         : status == "paused"  ? "it is paused already"
                                               : "it has not started; start it first") +
                        ")");
    r.status_before = status;
    return r;
  }
  if (action == work_order_action::start) {
    stmt_ptr s = prepare(db, "SELECT ident FROM work_orders WHERE line_id=? AND status='running'");
    sqlite3_bind_int64(s.get(), 1, line);
    if (next_row(db, s.get(), "work order: running on the line")) {
      auto r = refuse(mes_status::line_busy,
                      "work order '" + detail::column_text(s.get(), 0) +
                          "' is running on the same line; pause or complete it first");
      r.status_before = status;
      return r;
    }
  }
  // The previous run (if any): a new run starts after its start and end, so
  // runs never overlap and (order, start_ms) stays a key even within one ms.
  int64_t last_start = INT64_MIN, last_end = INT64_MIN;
  bool open_run = false;
  {
    stmt_ptr s = prepare(db, "SELECT start_ms, end_ms FROM work_order_runs "
                             "WHERE work_order_id=? ORDER BY start_ms DESC LIMIT 1");
    sqlite3_bind_int64(s.get(), 1, order);
    if (next_row(db, s.get(), "work order: last run")) {
      last_start = sqlite3_column_int64(s.get(), 0);
      open_run = sqlite3_column_type(s.get(), 1) == SQLITE_NULL;
      last_end = open_run ? last_start : sqlite3_column_int64(s.get(), 1);
    }
  }
  if (action == work_order_action::start) {
    const int64_t start = std::max({now_ms, last_start == INT64_MIN ? now_ms : last_start + 1,
                                    last_end == INT64_MIN ? now_ms : last_end});
    stmt_ptr s =
        prepare(db, "INSERT INTO work_order_runs(work_order_id, start_ms, end_ms) VALUES(?,?,NULL)");
    sqlite3_bind_int64(s.get(), 1, order);
    sqlite3_bind_int64(s.get(), 2, start);
    step_done(db, s.get(), "work order: open a run");
  } else if (open_run) {
    stmt_ptr s = prepare(db, "UPDATE work_order_runs SET end_ms=? "
                             "WHERE work_order_id=? AND start_ms=?");
    sqlite3_bind_int64(s.get(), 1, std::max(now_ms, last_start));
    sqlite3_bind_int64(s.get(), 2, order);
    sqlite3_bind_int64(s.get(), 3, last_start);
    step_done(db, s.get(), "work order: end the run");
  }
  stmt_ptr s = prepare(db, "UPDATE work_orders SET status=?, completed_ms=? WHERE id=?");
  const std::string next_text = next;
  bind_text(s.get(), 1, next_text);
  if (action == work_order_action::complete)
    sqlite3_bind_int64(s.get(), 2, std::max(now_ms, last_end == INT64_MIN ? now_ms : last_end));
  else
    sqlite3_bind_null(s.get(), 2);
  sqlite3_bind_int64(s.get(), 3, order);
  step_done(db, s.get(), "work order: status");
  mes_result out;
  out.status_before = status;
  out.status_after = next;
  return out;
}

} // namespace edgemes::storage
