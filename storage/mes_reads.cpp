// storage/mes_reads: see mes_reads.hpp. Statements are prepared per call and
// reset by their owner's destruction, even on a throw.
#include "storage/mes_reads.hpp"

#include "storage/connection.hpp"

namespace edgemes::storage {

using detail::column_text;
using detail::next_row;
using detail::prepare;
using detail::stmt_ptr;

namespace {

void bind_text(sqlite3_stmt* s, int index, const std::string& v) {
  sqlite3_bind_text(s, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

int64_t column_or_zero(sqlite3_stmt* s, int col) {
  return sqlite3_column_type(s, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, col);
}

const char* const product_sql =
    "SELECT p.ident, p.name, p.created_ms, count(r.id), coalesce(max(r.revision), 0) "
    "FROM products p LEFT JOIN bom_revisions r ON r.product_id = p.id ";

product_info product_row(sqlite3_stmt* s) {
  return {column_text(s, 0), column_text(s, 1), sqlite3_column_int64(s, 2),
          sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)};
}

// "SELECT ... FROM bom_revisions r JOIN products p ..." rows as bom_revision_info.
const char* const revision_sql =
    "SELECT r.revision, r.imported_ms, r.source, r.items, r.components, "
    "(SELECT count(*) FROM work_orders w WHERE w.bom_revision_id = r.id) "
    "FROM bom_revisions r JOIN products p ON p.id = r.product_id WHERE p.ident = ?1 ";

bom_revision_info revision_row(sqlite3_stmt* s) {
  return {sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), column_text(s, 2),
          sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5)};
}

std::vector<std::string> split_spaces(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos)
      end = text.size();
    if (end > at)
      out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

const char* const order_sql =
    "SELECT w.id, w.ident, p.ident, p.name, r.revision, l.ident, w.quantity, w.status, "
    "w.created_ms, w.completed_ms FROM work_orders w "
    "JOIN products p ON p.id = w.product_id "
    "JOIN bom_revisions r ON r.id = w.bom_revision_id "
    "JOIN lines l ON l.id = w.line_id ";

// Rows of order_sql with their runs.
std::vector<work_order_info> orders(sqlite3* db, sqlite3_stmt* s) {
  std::vector<work_order_info> out;
  std::vector<int64_t> ids;
  while (next_row(db, s, "work orders")) {
    work_order_info w;
    ids.push_back(sqlite3_column_int64(s, 0));
    w.ident = column_text(s, 1);
    w.product = column_text(s, 2);
    w.product_name = column_text(s, 3);
    w.revision = sqlite3_column_int64(s, 4);
    w.line = column_text(s, 5);
    w.quantity = sqlite3_column_int64(s, 6);
    w.status = column_text(s, 7);
    w.created_ms = sqlite3_column_int64(s, 8);
    w.completed_ms = column_or_zero(s, 9);
    out.push_back(std::move(w));
  }
  stmt_ptr runs = prepare(db, "SELECT start_ms, end_ms FROM work_order_runs "
                              "WHERE work_order_id=? ORDER BY start_ms");
  for (size_t i = 0; i < out.size(); ++i) {
    detail::reset_on_exit r(runs.get());
    sqlite3_bind_int64(runs.get(), 1, ids[i]);
    while (next_row(db, runs.get(), "work order runs"))
      out[i].runs.push_back({sqlite3_column_int64(runs.get(), 0), column_or_zero(runs.get(), 1)});
  }
  return out;
}

} // namespace

std::vector<product_info> products(reader& r) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(db, (std::string(product_sql) + "GROUP BY p.id ORDER BY p.ident").c_str());
  std::vector<product_info> out;
  while (next_row(db, s.get(), "products"))
    out.push_back(product_row(s.get()));
  return out;
}

std::optional<product_info> product(reader& r, const std::string& ident) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(db, (std::string(product_sql) + "WHERE p.ident=? GROUP BY p.id").c_str());
  bind_text(s.get(), 1, ident);
  if (!next_row(db, s.get(), "product"))
    return std::nullopt;
  return product_row(s.get());
}

std::vector<bom_revision_info> bom_revisions(reader& r, const std::string& product) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(db, (std::string(revision_sql) + "ORDER BY r.revision").c_str());
  bind_text(s.get(), 1, product);
  std::vector<bom_revision_info> out;
  while (next_row(db, s.get(), "bom revisions"))
    out.push_back(revision_row(s.get()));
  return out;
}

std::optional<bom_revision_info> bom_revision(reader& r, const std::string& product,
                                              int64_t revision) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(db, (std::string(revision_sql) +
                            "AND (?2 = 0 OR r.revision = ?2) ORDER BY r.revision DESC LIMIT 1")
                               .c_str());
  bind_text(s.get(), 1, product);
  sqlite3_bind_int64(s.get(), 2, revision);
  if (!next_row(db, s.get(), "bom revision"))
    return std::nullopt;
  return revision_row(s.get());
}

std::vector<bom_item_row> bom_items(reader& r, const std::string& product, int64_t revision) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(
      db, "SELECT i.part_number, i.quantity, i.designators, i.description, i.side, i.csv_line "
          "FROM bom_items i JOIN bom_revisions r ON r.id = i.revision_id "
          "JOIN products p ON p.id = r.product_id "
          "WHERE p.ident = ? AND r.revision = ? ORDER BY i.position");
  bind_text(s.get(), 1, product);
  sqlite3_bind_int64(s.get(), 2, revision);
  std::vector<bom_item_row> out;
  while (next_row(db, s.get(), "bom items"))
    out.push_back({column_text(s.get(), 0), sqlite3_column_int64(s.get(), 1),
                   split_spaces(column_text(s.get(), 2)), column_text(s.get(), 3),
                   column_text(s.get(), 4), sqlite3_column_int64(s.get(), 5)});
  return out;
}

std::vector<work_order_info> work_orders(reader& r, const std::optional<std::string>& line,
                                         const std::optional<std::string>& status,
                                         int64_t limit) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(db, (std::string(order_sql) +
                            "WHERE (?1 IS NULL OR l.ident = ?1) AND (?2 IS NULL OR w.status = ?2) "
                            "ORDER BY w.created_ms DESC, w.id DESC LIMIT ?3")
                               .c_str());
  if (line)
    bind_text(s.get(), 1, *line);
  if (status)
    bind_text(s.get(), 2, *status);
  sqlite3_bind_int64(s.get(), 3, limit);
  return orders(db, s.get());
}

std::optional<work_order_info> work_order(reader& r, const std::string& ident) {
  sqlite3* db = r.handle();
  stmt_ptr s = prepare(db, (std::string(order_sql) + "WHERE w.ident = ?").c_str());
  bind_text(s.get(), 1, ident);
  auto found = orders(db, s.get());
  if (found.empty())
    return std::nullopt;
  return std::move(found.front());
}

} // namespace edgemes::storage
