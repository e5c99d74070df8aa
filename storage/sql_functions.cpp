// storage/sql_functions: see sql_functions.hpp. Both functions are
// eponymous-only virtual tables (xCreate = 0: they exist in every schema
// under their own name and cannot be CREATEd), the way SQLite's json_each and
// generate_series are (https://sqlite.org/vtab.html#tabfunc2).
//
// The argument is the hidden column `data`. xBestIndex refuses every plan
// without a usable `data = ?` constraint (SQLITE_CONSTRAINT), so the planner
// always passes it, and a query that does not give one fails with "no query
// solution" instead of scanning nothing. Two more equality constraints are
// used when the query has them, as filters that skip decoding: `slot = ?`
// decodes one column instead of all, and `machine_id = ?` (edgemes_log)
// decodes one machine's entry. Both are left for SQLite to check again
// (omit = 0), so a filter value this code does not understand (text, say)
// only costs speed: the cursor then decodes everything.
//
// Rows come out ordered by (machine_id,) ts, slot — the order the formats
// store them in — and xBestIndex says so (orderByConsumed) when the ORDER BY
// asks for a prefix of that order, ascending.
//
// The same file is compiled twice (storage/CMakeLists.txt): into
// edgemes_storage against <sqlite3.h>, and with EDGEMES_SQLITE_EXTENSION into
// the loadable extension edgemes.so, where every sqlite3_* call must go
// through the routine table the loading shell hands to sqlite3_edgemes_init
// (storage/sqlite_ext.cpp); <sqlite3ext.h> turns the calls into that.
#ifdef EDGEMES_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif

#include "storage/sql_functions.hpp"

#include "storage/chunk.hpp"
#include "storage/log_batch.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace edgemes::storage {

namespace {

// What distinguishes the two functions; the callbacks are shared.
struct function_def {
  const char* name;
  const char* schema;
  const char* malformed;  // the error message for bytes that do not decode
  int machine_col;        // -1: edgemes_chunk has no machine_id
  int ts_col;
  int slot_col;
  int value_col;
  int data_col;           // the hidden argument
};

const function_def chunk_def = {"edgemes_chunk",
                                "CREATE TABLE x(ts INTEGER, slot INTEGER, value REAL, data HIDDEN)",
                                "edgemes_chunk: malformed chunk", -1, 0, 1, 2, 3};
const function_def log_def = {
    "edgemes_log",
    "CREATE TABLE x(machine_id INTEGER, ts INTEGER, slot INTEGER, value REAL, data HIDDEN)",
    "edgemes_log: malformed batch", 0, 1, 2, 3, 4};

// idxNum bits: which optional filters follow `data` in argv, in this order.
constexpr int has_machine = 1;
constexpr int has_slot = 2;

struct table : sqlite3_vtab {
  const function_def* def;
};

// The present values of one chunk in (ts, slot) order. Buffers are kept
// between chunks: a join calls xFilter once per row of the outer table.
class chunk_rows {
public:
  // The view load() reads: parse the chunk (or a batch entry) into it first.
  chunk::view& view() { return view_; }

  // Decodes the timestamps and the slots asked for (-1: all) of the parsed
  // view; `parsed` is whether parsing it succeeded. False when malformed.
  bool load(bool parsed, int64_t only_slot) {
    i_ = 0;
    c_ = 0;
    ts_.clear();
    ncols_ = 0;
    if (!parsed || !view_.timestamps(ts_))
      return false;
    size_t first = 0, count = view_.slots();
    if (only_slot >= 0) {
      first = static_cast<size_t>(only_slot);
      count = first < view_.slots() ? 1 : 0;
    }
    if (cols_.size() < count)
      cols_.resize(count);
    for (size_t k = 0; k < count; ++k)
      if (!view_.column(first + k, cols_[k]))
        return false;
    first_slot_ = first;
    ncols_ = count;
    seek();
    return true;
  }
  bool done() const { return ncols_ == 0 || i_ >= ts_.size(); }
  void next() {
    ++c_;
    seek();
  }
  int64_t ts() const { return ts_[i_]; }
  int64_t slot() const { return static_cast<int64_t>(first_slot_ + c_); }
  double value() const { return cols_[c_][i_]; }

private:
  // From (i_, c_) on to the first present value, or past the end.
  void seek() {
    if (ncols_ == 0)
      return;
    for (; i_ < ts_.size(); ++i_, c_ = 0)
      for (; c_ < ncols_; ++c_)
        if (!std::isnan(cols_[c_][i_]))
          return;
  }
  chunk::view view_;
  std::vector<int64_t> ts_;
  std::vector<std::vector<double>> cols_;  // cols_[k] is slot first_slot_ + k
  size_t first_slot_ = 0, ncols_ = 0;
  size_t i_ = 0, c_ = 0;                   // poll, column
};

struct cursor : sqlite3_vtab_cursor {
  const function_def* def;
  std::string blob;              // the argument, copied: argv dies with xFilter
  log_batch::view batch;         // edgemes_log only
  size_t entry = 0, entry_end = 0;
  int64_t only_slot = -1;
  chunk_rows rows;
  sqlite3_int64 rowid = 0;
  bool eof = true;
};

int fail(sqlite3_vtab* vtab, const char* message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message);
  return SQLITE_ERROR;
}

// An integer filter value: false when `v` is not a number equal to an integer
// (then SQLite, checking the constraint itself, decides). `none` is set when
// no row can match (NULL, or a number that is no integer).
bool int_filter(sqlite3_value* v, int64_t& out, bool& none) {
  switch (sqlite3_value_type(v)) {
  case SQLITE_INTEGER: out = sqlite3_value_int64(v); return true;
  case SQLITE_FLOAT: {
    const double d = sqlite3_value_double(v);
    if (d == std::floor(d) && std::fabs(d) < 0x1p62) {
      out = static_cast<int64_t>(d);
      return true;
    }
    none = true;
    return false;
  }
  case SQLITE_NULL: none = true; return false;
  default: return false;
  }
}

int x_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  const auto* def = static_cast<const function_def*>(aux);
  int rc = sqlite3_declare_vtab(db, def->schema);
  if (rc != SQLITE_OK)
    return rc;
  // Decoding bytes has no side effect: usable in views and triggers even
  // with trusted_schema=OFF.
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  auto* t = new table{};
  t->def = def;
  *out = t;
  return SQLITE_OK;
}

int x_disconnect(sqlite3_vtab* vtab) {
  delete static_cast<table*>(vtab);
  return SQLITE_OK;
}

int x_best_index(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  const function_def& def = *static_cast<table*>(vtab)->def;
  int data = -1, machine = -1, slot = -1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ || !c.usable)
      continue;
    if (c.iColumn == def.data_col && data < 0)
      data = i;
    else if (c.iColumn == def.machine_col && machine < 0)
      machine = i;
    else if (c.iColumn == def.slot_col && slot < 0)
      slot = i;
  }
  if (data < 0)
    return SQLITE_CONSTRAINT;  // the argument is required (as in series.c)
  int arg = 1;
  info->aConstraintUsage[data].argvIndex = arg++;
  info->aConstraintUsage[data].omit = 1;
  double rows = 1000;
  info->idxNum = 0;
  if (machine >= 0) {
    info->aConstraintUsage[machine].argvIndex = arg++;
    info->idxNum |= has_machine;
    rows /= 100;
  }
  if (slot >= 0) {
    info->aConstraintUsage[slot].argvIndex = arg++;
    info->idxNum |= has_slot;
    rows /= 10;
  }
  info->estimatedCost = rows;
  info->estimatedRows = static_cast<sqlite3_int64>(rows);

  const int order[] = {def.machine_col, def.ts_col, def.slot_col};
  const int* natural = def.machine_col < 0 ? order + 1 : order;
  const int natural_len = def.machine_col < 0 ? 2 : 3;
  bool ordered = info->nOrderBy <= natural_len;
  for (int k = 0; ordered && k < info->nOrderBy; ++k)
    ordered = info->aOrderBy[k].iColumn == natural[k] && !info->aOrderBy[k].desc;
  if (ordered)
    info->orderByConsumed = 1;
  return SQLITE_OK;
}

int x_open(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  auto* c = new cursor{};
  c->def = static_cast<table*>(vtab)->def;
  *out = c;
  return SQLITE_OK;
}

int x_close(sqlite3_vtab_cursor* cur) {
  delete static_cast<cursor*>(cur);
  return SQLITE_OK;
}

// edgemes_log: from c.entry on, loads entries until one has a row to show.
int load_entry(cursor& c) {
  for (; c.entry < c.entry_end; ++c.entry) {
    if (!c.rows.load(c.batch.entry_polls(c.entry, c.rows.view()), c.only_slot))
      return fail(c.pVtab, c.def->malformed);
    if (!c.rows.done())
      return SQLITE_OK;
  }
  c.eof = true;
  return SQLITE_OK;
}

int x_filter(sqlite3_vtab_cursor* cur, int idx_num, const char*, int argc, sqlite3_value** argv) {
  auto& c = *static_cast<cursor*>(cur);
  c.eof = true;
  c.rowid = 0;
  c.only_slot = -1;
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL)
    return SQLITE_OK;
  int arg = 1;
  bool none = false;
  int64_t only_machine = 0;
  const bool by_machine =
      (idx_num & has_machine) && arg < argc && int_filter(argv[arg++], only_machine, none);
  int64_t slot = 0;
  if ((idx_num & has_slot) && arg < argc && int_filter(argv[arg++], slot, none)) {
    if (slot < 0)
      return SQLITE_OK;  // slots are numbered from 0
    c.only_slot = slot;
  }
  if (none)
    return SQLITE_OK;

  const void* bytes = sqlite3_value_blob(argv[0]);
  const int size = sqlite3_value_bytes(argv[0]);
  c.blob.assign(static_cast<const char*>(bytes ? bytes : ""), static_cast<size_t>(size));

  if (c.def->machine_col < 0) {
    if (!c.rows.load(c.rows.view().parse(c.blob.data(), c.blob.size()), c.only_slot))
      return fail(c.pVtab, c.def->malformed);
    c.eof = c.rows.done();
    return SQLITE_OK;
  }
  if (!c.batch.parse(c.blob.data(), c.blob.size()))
    return fail(c.pVtab, c.def->malformed);
  const auto& entries = c.batch.entries();
  c.entry = 0;
  c.entry_end = entries.size();
  if (by_machine) {
    auto it = std::lower_bound(
        entries.begin(), entries.end(), only_machine,
        [](const log_batch::view::entry& e, int64_t id) { return e.machine_id < id; });
    c.entry = static_cast<size_t>(it - entries.begin());
    c.entry_end = it != entries.end() && it->machine_id == only_machine ? c.entry + 1 : c.entry;
  }
  c.eof = false;
  return load_entry(c);
}

int x_next(sqlite3_vtab_cursor* cur) {
  auto& c = *static_cast<cursor*>(cur);
  ++c.rowid;
  c.rows.next();
  if (!c.rows.done())
    return SQLITE_OK;
  if (c.def->machine_col < 0) {
    c.eof = true;
    return SQLITE_OK;
  }
  ++c.entry;
  return load_entry(c);
}

int x_eof(sqlite3_vtab_cursor* cur) { return static_cast<cursor*>(cur)->eof ? 1 : 0; }

int x_column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  const auto& c = *static_cast<cursor*>(cur);
  const function_def& def = *c.def;
  if (col == def.ts_col)
    sqlite3_result_int64(ctx, c.rows.ts());
  else if (col == def.slot_col)
    sqlite3_result_int64(ctx, c.rows.slot());
  else if (col == def.value_col)
    sqlite3_result_double(ctx, c.rows.value());
  else if (col == def.machine_col)
    sqlite3_result_int64(ctx, c.batch.entries()[c.entry].machine_id);
  else if (col == def.data_col)
    sqlite3_result_blob(ctx, c.blob.data(), static_cast<int>(c.blob.size()), SQLITE_TRANSIENT);
  return SQLITE_OK;
}

int x_rowid(sqlite3_vtab_cursor* cur, sqlite_int64* rowid) {
  *rowid = static_cast<cursor*>(cur)->rowid;
  return SQLITE_OK;
}

const sqlite3_module& module() {
  static const sqlite3_module m = [] {
    sqlite3_module x{};
    x.iVersion = 0;
    x.xCreate = nullptr;  // eponymous-only
    x.xConnect = x_connect;
    x.xBestIndex = x_best_index;
    x.xDisconnect = x_disconnect;
    x.xDestroy = x_disconnect;
    x.xOpen = x_open;
    x.xClose = x_close;
    x.xFilter = x_filter;
    x.xNext = x_next;
    x.xEof = x_eof;
    x.xColumn = x_column;
    x.xRowid = x_rowid;
    return x;
  }();
  return m;
}

} // namespace

int register_sql_functions(sqlite3* db) {
  for (const function_def* def : {&chunk_def, &log_def}) {
    int rc = sqlite3_create_module(db, def->name, &module(), const_cast<function_def*>(def));
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

} // namespace edgemes::storage
