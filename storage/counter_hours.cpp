// storage/counter_hours: see counter_hours.hpp. The folds, the writer's
// upkeep of the rows at each compaction, the v5 backfill and retention.
#include "storage/counter_hours.hpp"

#include "storage/chunk.hpp"
#include "storage/connection.hpp"
#include "storage/rollup.hpp"

#include <algorithm>

namespace edgemes::storage {

void hour_summary::add(int64_t ts, double x) {
  if (std::isnan(x))
    return;
  if (n == 0) {
    first_ts = ts;
    first = x;
  } else if (x >= last) {
    increase += x - last;
  } else {
    ++resets;
  }
  last_ts = ts;
  last = x;
  ++n;
}

void counter_fold::add(int64_t ts, double x) {
  if (std::isnan(x))
    return;
  if (result.values++ == 0)
    result.first_ts = ts;
  result.last_ts = ts;
  if (!std::isnan(prev)) {
    if (x >= prev)
      result.increase += x - prev;
    else
      ++result.resets;
  }
  prev = x;
}

void counter_fold::add(const hour_summary& h) {
  if (h.n == 0)
    return;
  if (result.values == 0)
    result.first_ts = h.first_ts;
  result.values += h.n;
  result.last_ts = h.last_ts;
  if (!std::isnan(prev)) {
    if (h.first >= prev)
      result.increase += h.first - prev;
    else
      ++result.resets;
  }
  result.increase += h.increase;
  result.resets += h.resets;
  prev = h.last;
}

namespace detail {

namespace {

// Decodes a chunk's timestamps and every column; false when malformed.
bool decode_chunk(const void* data, size_t size, std::vector<int64_t>& ts,
                  std::vector<std::vector<double>>& cols) {
  chunk::view v;
  if (!v.parse(data, size) || !v.timestamps(ts))
    return false;
  cols.resize(v.slots());
  for (size_t s = 0; s < v.slots(); ++s)
    if (!v.column(s, cols[s]) || cols[s].size() != ts.size())
      return false;
  return true;
}

[[noreturn]] void undecodable(const char* what, int64_t machine, int64_t start) {
  throw db_error(SQLITE_CORRUPT, std::string(what) + ": the chunk of machine " +
                                     std::to_string(machine) + " at " + std::to_string(start) +
                                     " does not decode");
}

} // namespace

void fold_polls(const std::vector<int64_t>& ts, const std::vector<std::vector<double>>& cols,
                int64_t lo, int64_t hi, hour_rows& rows) {
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i] < lo || ts[i] >= hi)
      continue;
    auto& hour = rows[floor_to(ts[i], kCounterHourMs)];
    for (size_t s = 0; s < cols.size(); ++s)
      if (!std::isnan(cols[s][i]))
        hour[static_cast<int>(s)].add(ts[i], cols[s][i]);
  }
}

hour_summary column_summary(sqlite3_stmt* s, int col) {
  hour_summary h;
  h.first_ts = sqlite3_column_int64(s, col);
  h.first = sqlite3_column_double(s, col + 1);
  h.last_ts = sqlite3_column_int64(s, col + 2);
  h.last = sqlite3_column_double(s, col + 3);
  h.increase = sqlite3_column_double(s, col + 4);
  h.resets = sqlite3_column_int64(s, col + 5);
  h.n = sqlite3_column_int64(s, col + 6);
  return h;
}

hour_writer::hour_writer(sqlite3* db) : db_(db) {
  get_ = prepare(db, "SELECT slot, first_ts, first, last_ts, last, increase, resets, n "
                     "FROM counter_hours WHERE hour=? AND machine_id=?")
             .release();
  put_ = prepare(db, "INSERT OR REPLACE INTO counter_hours(hour, machine_id, slot, first_ts, "
                     "first, last_ts, last, increase, resets, n) VALUES(?,?,?,?,?,?,?,?,?,?)")
             .release();
  clear_ = prepare(db, "DELETE FROM counter_hours WHERE hour=? AND machine_id=?").release();
  chunk_ = prepare(db, "SELECT data FROM chunks WHERE start=? AND machine_id=?").release();
}

hour_writer::~hour_writer() {
  for (sqlite3_stmt* s : {get_, put_, clear_, chunk_})
    sqlite3_finalize(s);
}

void hour_writer::load(int64_t machine, int64_t hour, std::map<int, hour_summary>& out) {
  reset_on_exit r(get_);
  sqlite3_bind_int64(get_, 1, hour);
  sqlite3_bind_int64(get_, 2, machine);
  while (next_row(db_, get_, "counter hours: read"))
    out[sqlite3_column_int(get_, 0)] = column_summary(get_, 1);
}

// The hour's rows from its chunks alone (the window just written included).
void hour_writer::recompute(int64_t machine, int64_t hour, int64_t window_ms, hour_rows& rows) {
  {
    reset_on_exit r(clear_);
    sqlite3_bind_int64(clear_, 1, hour);
    sqlite3_bind_int64(clear_, 2, machine);
    if (int rc = sqlite3_step(clear_); rc != SQLITE_DONE)
      fail(db_, rc, "counter hours: clear an hour");
  }
  rows.erase(hour);
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> cols;
  for (int64_t w = floor_to(hour, window_ms); w < hour + kCounterHourMs; w += window_ms) {
    reset_on_exit r(chunk_);
    sqlite3_bind_int64(chunk_, 1, w);
    sqlite3_bind_int64(chunk_, 2, machine);
    if (!next_row(db_, chunk_, "counter hours: read a chunk"))
      continue;
    if (!decode_chunk(sqlite3_column_blob(chunk_, 0),
                      static_cast<size_t>(sqlite3_column_bytes(chunk_, 0)), ts, cols))
      undecodable("counter hours", machine, w);
    fold_polls(ts, cols, hour, hour + kCounterHourMs, rows);
  }
}

int64_t hour_writer::window(int64_t machine, int64_t window_start, int64_t window_ms,
                            const std::vector<int64_t>& ts,
                            const std::vector<std::vector<double>>& values, bool merged) {
  hour_rows rows;
  for (int64_t hour = floor_to(window_start, kCounterHourMs); hour < window_start + window_ms;
       hour += kCounterHourMs) {
    const int64_t end = hour + kCounterHourMs;
    std::map<int, hour_summary>& have = rows[hour];
    load(machine, hour, have);
    // Appending is exact when every value of the window in this hour comes
    // after the last value the row folded (per slot) and no older chunk
    // content changed (a merge).
    bool append = !merged;
    for (size_t i = 0; i < ts.size() && append; ++i) {
      if (ts[i] < hour || ts[i] >= end)
        continue;
      for (size_t s = 0; s < values[i].size() && append; ++s) {
        if (std::isnan(values[i][s]))
          continue;
        auto it = have.find(static_cast<int>(s));
        append = it == have.end() || it->second.last_ts < ts[i];
      }
    }
    if (!append) {
      recompute(machine, hour, window_ms, rows);
      continue;
    }
    for (size_t i = 0; i < ts.size(); ++i) {
      if (ts[i] < hour || ts[i] >= end)
        continue;
      for (size_t s = 0; s < values[i].size(); ++s)
        if (!std::isnan(values[i][s]))
          have[static_cast<int>(s)].add(ts[i], values[i][s]);
    }
  }
  return put(machine, rows);
}

int64_t hour_writer::put(int64_t machine, const hour_rows& rows) {
  int64_t written = 0;
  for (const auto& [hour, slots] : rows)
    for (const auto& [slot, h] : slots) {
      reset_on_exit r(put_);
      sqlite3_bind_int64(put_, 1, hour);
      sqlite3_bind_int64(put_, 2, machine);
      sqlite3_bind_int(put_, 3, slot);
      sqlite3_bind_int64(put_, 4, h.first_ts);
      sqlite3_bind_double(put_, 5, h.first);
      sqlite3_bind_int64(put_, 6, h.last_ts);
      sqlite3_bind_double(put_, 7, h.last);
      sqlite3_bind_double(put_, 8, h.increase);
      sqlite3_bind_int64(put_, 9, h.resets);
      sqlite3_bind_int64(put_, 10, h.n);
      if (int rc = sqlite3_step(put_); rc != SQLITE_DONE)
        fail(db_, rc, "counter hours: write a row");
      ++written;
    }
  return written;
}

void backfill_counter_hours(sqlite3* db) {
  hour_writer out(db);
  // machine -> its rows of the hours not yet complete. Chunks come in
  // (start, machine_id) order, so once a chunk starts at `start` every poll
  // of an hour before floor(start) has been seen.
  std::map<int64_t, hour_rows> open;
  auto flush_before = [&](int64_t hour) {
    for (auto& [machine, rows] : open) {
      hour_rows done;
      while (!rows.empty() && rows.begin()->first < hour) {
        done.insert(*rows.begin());
        rows.erase(rows.begin());
      }
      out.put(machine, done);
    }
  };
  stmt_ptr q = prepare(db, "SELECT start, machine_id, data FROM chunks ORDER BY start, machine_id");
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> cols;
  int64_t current = std::numeric_limits<int64_t>::min();
  while (next_row(db, q.get(), "schema v5: read chunks")) {
    const int64_t start = sqlite3_column_int64(q.get(), 0);
    const int64_t machine = sqlite3_column_int64(q.get(), 1);
    if (floor_to(start, kCounterHourMs) != current) {
      current = floor_to(start, kCounterHourMs);
      flush_before(current);
    }
    if (!decode_chunk(sqlite3_column_blob(q.get(), 2),
                      static_cast<size_t>(sqlite3_column_bytes(q.get(), 2)), ts, cols))
      undecodable("schema v5", machine, start);
    fold_polls(ts, cols, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
               open[machine]);
  }
  flush_before(std::numeric_limits<int64_t>::max());
}

int64_t trim_counter_hours(sqlite3* db, int64_t cutoff) {
  const int64_t from = floor_to(cutoff - 1, kCounterHourMs) + kCounterHourMs;  // ceil to an hour
  stmt_ptr mark = prepare(db, "UPDATE compaction SET hours_from = max(coalesce(hours_from, ?1), ?1)");
  sqlite3_bind_int64(mark.get(), 1, from);
  if (int rc = sqlite3_step(mark.get()); rc != SQLITE_DONE)
    fail(db, rc, "retention: mark counter hours");
  stmt_ptr q = prepare(db, "DELETE FROM counter_hours WHERE hour < ?");
  sqlite3_bind_int64(q.get(), 1, from);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE)
    fail(db, rc, "retention: delete counter hours");
  return sqlite3_changes(db);
}

} // namespace detail
} // namespace edgemes::storage
