// storage/compaction: moving whole windows of polls from the ingest log into
// chunks (writer::compact, see writer.hpp).
//
// The invariant (schema.cpp): every committed poll is in exactly one of
// `chunks` and `ingest_log`, and the head mirrors the log. One compaction is
// one transaction that
//   1. writes one chunk per (window, machine) for every poll of the head with
//      ts < the new boundary — merged with the chunk already there, if any
//      (a late poll into a window compacted before);
//   2. sets compaction.boundary (and bumps its generation);
//   3. deletes each ingest_log row whose polls all moved, and replaces a row
//      that keeps some (a commit that straddled the boundary) by a new row
//      holding only those.
// Then, after COMMIT, the head drops the moved polls. A kill -9 before COMMIT
// leaves the log as it was; the next start reloads the head from it and the
// next compaction does the same work again.
//
// Cost on disk: the chunks table is keyed (start, machine_id), so one
// compaction appends ~one chunk per machine at the end of the B-tree — fresh
// pages, written once — rather than rewriting one page per machine.
#include "storage/chunk.hpp"
#include "storage/head.hpp"
#include "storage/log_batch.hpp"
#include "storage/rollup.hpp"
#include "storage/writer_detail.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace edgemes::storage {

using detail::fail;
using detail::in_transaction;
using detail::step_done;
using detail::stmt_ptr;

namespace {

// One machine's polls of one window, gathered for its chunk.
struct window_polls {
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> values;  // per poll, by slot
};

// Adds the polls of an existing chunk that `w` lacks (same ts: `w` holds the
// same poll already). False when the chunk does not decode.
bool merge_existing(const void* data, size_t size, window_polls& w) {
  chunk::view v;
  std::vector<int64_t> ts;
  if (!v.parse(data, size) || !v.timestamps(ts))
    return false;
  std::vector<std::vector<double>> cols(v.slots());
  for (size_t s = 0; s < v.slots(); ++s)
    if (!v.column(s, cols[s]))
      return false;
  std::set<int64_t> have(w.ts.begin(), w.ts.end());
  for (size_t i = 0; i < ts.size(); ++i) {
    if (have.count(ts[i]))
      continue;
    w.ts.push_back(ts[i]);
    std::vector<double> row(v.slots());
    for (size_t s = 0; s < v.slots(); ++s)
      row[s] = cols[s][i];
    w.values.push_back(std::move(row));
  }
  return true;
}

// Encodes `w` (any order) as one chunk into `out`.
void encode_window(window_polls& w, std::string& out) {
  std::vector<size_t> order(w.ts.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w.ts[a] < w.ts[b]; });
  size_t nslots = 0;
  for (const auto& v : w.values)
    nslots = std::max(nslots, v.size());
  std::vector<int64_t> ts(order.size());
  std::vector<double> values(order.size() * nslots, NAN);
  for (size_t k = 0; k < order.size(); ++k) {
    ts[k] = w.ts[order[k]];
    const auto& row = w.values[order[k]];
    std::copy(row.begin(), row.end(), values.begin() + static_cast<std::ptrdiff_t>(k * nslots));
  }
  out.clear();
  chunk::encode(ts.data(), values.data(), ts.size(), nslots, out);
}

// The polls one compaction moves.
struct moving_polls {
  // (window start, machine) -> polls, for its chunk.
  std::map<std::pair<int64_t, int64_t>, window_polls> windows;
  // ingest_log id -> how many of its polls move.
  std::unordered_map<int64_t, int64_t> per_log_row;
};

// What the log rewrite did, applied to writer::log_polls_ and the head after
// COMMIT.
struct log_changes {
  std::unordered_map<int64_t, int64_t> renamed;     // old ingest_log id -> its new row
  std::vector<int64_t> deleted;                     // ids deleted (renamed ones too)
  std::unordered_map<int64_t, int64_t> new_counts;  // new id -> its polls
};

std::set<int64_t> machine_ids(sqlite3* db) {
  std::set<int64_t> machines;
  stmt_ptr q = detail::prepare(db, "SELECT id FROM machines");
  while (detail::next_row(db, q.get(), "compact: list machines"))
    machines.insert(sqlite3_column_int64(q.get(), 0));
  return machines;
}

// The head's polls before `target`, by window; counts them into `out`.
moving_polls gather(const head& h, int64_t target, int64_t boundary, int64_t window_ms,
                    compaction_result& out, const std::set<int64_t>& machines) {
  moving_polls m;
  h.each_poll([&](int64_t machine, int64_t ts, const double* v, size_t nslots, int64_t log_id) {
    if (ts >= target)
      return;
    ++m.per_log_row[log_id];
    ++out.polls;
    if (ts < boundary)
      ++out.late_polls;
    if (!machines.count(machine))
      return;  // its machine was deleted (a line removed by hand): nothing to keep
    auto& wp = m.windows[{floor_to(ts, window_ms), machine}];
    wp.ts.push_back(ts);
    wp.values.emplace_back(v, v + nslots);
  });
  return m;
}

// Writes one chunk per window of `windows`, merged with the chunk already
// stored there, if any.
void write_chunks(sqlite3* db, sqlite3_stmt* get, sqlite3_stmt* put, std::string& buf,
                  std::map<std::pair<int64_t, int64_t>, window_polls>& windows,
                  compaction_result& out) {
  for (auto& [key, wp] : windows) {
    {
      detail::reset_on_exit r(get);
      sqlite3_bind_int64(get, 1, key.first);
      sqlite3_bind_int64(get, 2, key.second);
      int rc = sqlite3_step(get);
      if (rc == SQLITE_ROW) {
        if (!merge_existing(sqlite3_column_blob(get, 0),
                            static_cast<size_t>(sqlite3_column_bytes(get, 0)), wp))
          throw db_error(SQLITE_CORRUPT, "compact: the chunk of machine " +
                                             std::to_string(key.second) + " at " +
                                             std::to_string(key.first) + " does not decode");
      } else if (rc != SQLITE_DONE) {
        fail(db, rc, "compact: read a chunk");
      }
    }
    encode_window(wp, buf);
    sqlite3_bind_int64(put, 1, key.first);
    sqlite3_bind_int64(put, 2, key.second);
    sqlite3_bind_int64(put, 3, static_cast<int64_t>(wp.ts.size()));
    detail::bind_blob(put, 4, buf);
    step_done(db, put, "compact: write a chunk");
    ++out.chunks;
    out.bytes += static_cast<int64_t>(buf.size());
  }
}

// The polls that stay (ts >= target) of each log row some of whose polls
// move: log id -> its remaining polls, whose values `kept_values` owns.
std::unordered_map<int64_t, std::vector<log_batch::poll>> staying_polls(
    const head& h, const std::unordered_map<int64_t, int64_t>& log_polls, const moving_polls& m,
    int64_t target, std::vector<std::vector<double>>& kept_values) {
  std::unordered_map<int64_t, std::vector<log_batch::poll>> keep;
  for (const auto& [id, n] : m.per_log_row) {
    auto total = log_polls.find(id);
    if (total != log_polls.end() && total->second > n)
      keep[id];
  }
  if (keep.empty())
    return keep;
  h.each_poll([&](int64_t machine, int64_t ts, const double* v, size_t nslots, int64_t log_id) {
    if (ts < target)
      return;
    auto k = keep.find(log_id);
    if (k == keep.end())
      return;
    kept_values.emplace_back(v, v + nslots);
    k->second.push_back({machine, ts, &kept_values.back()});
  });
  return keep;
}

// Deletes each log row whose polls all moved and replaces a row that keeps
// some (a commit that straddled the boundary) by a new row holding only those.
log_changes rewrite_log(sqlite3* db, sqlite3_stmt* insert_log, sqlite3_stmt* delete_log,
                        std::string& buf, const head& h,
                        const std::unordered_map<int64_t, int64_t>& log_polls,
                        const moving_polls& m, int64_t target, compaction_result& out) {
  if (h.polls() < out.polls)
    throw db_error(SQLITE_INTERNAL, "compact: head holds " + std::to_string(h.polls()) +
                                        " polls, moving " + std::to_string(out.polls));
  // Reserved up front: the kept polls point into it.
  std::vector<std::vector<double>> kept_values;
  kept_values.reserve(static_cast<size_t>(h.polls() - out.polls) + 1);
  auto keep = staying_polls(h, log_polls, m, target, kept_values);
  log_changes changes;
  for (const auto& [id, n] : m.per_log_row) {
    auto k = keep.find(id);
    if (k != keep.end()) {
      const auto count = static_cast<int64_t>(k->second.size());
      const int64_t new_id = detail::insert_log_row(db, insert_log, buf, k->second,
                                                    "compact: rewrite an ingest log row");
      changes.renamed[id] = new_id;
      changes.new_counts[new_id] = count;
      ++out.log_rewritten;
    } else {
      ++out.log_deleted;
    }
    sqlite3_bind_int64(delete_log, 1, id);
    step_done(db, delete_log, "compact: delete an ingest log row");
    changes.deleted.push_back(id);
  }
  return changes;
}

} // namespace

bool writer::compaction_due() const {
  if (!db_ || head_->polls() == 0)
    return false;
  if (!head_->has_boundary())
    return true;
  return floor_to(head_->newest_ts() - layout_.grace_ms, window_ms_) > head_->boundary();
}

compaction_result writer::compact(bool force) {
  if (!db_)
    throw db_error(SQLITE_MISUSE, "compact: writer is closed");
  compaction_result out;
  const int64_t w = window_ms_;
  if (head_->polls() == 0) {
    out.boundary = head_->boundary();
    return out;
  }
  // The new boundary: windows that ended grace_ms before the newest poll, or
  // (force) every window holding a poll.
  int64_t target = force ? floor_to(head_->newest_ts(), w) + w
                         : floor_to(head_->newest_ts() - layout_.grace_ms, w);
  int64_t oldest = std::numeric_limits<int64_t>::max();
  head_->each_poll([&](int64_t, int64_t ts, const double*, size_t, int64_t) {
    oldest = std::min(oldest, ts);
  });
  const int64_t boundary = head_->has_boundary() ? head_->boundary() : floor_to(oldest, w);
  target = std::max(target, boundary);
  out.boundary = target;
  if (oldest >= target) {
    // Nothing before the new boundary: no window to move. A first boundary
    // is remembered in memory only (nothing is before it), so that
    // compaction_due() stays false until a window ends.
    if (!head_->has_boundary()) {
      head_->set_boundary(boundary);
      head_->publish();
    }
    out.boundary = boundary;
    return out;
  }

  moving_polls moving = gather(*head_, target, boundary, w, out, machine_ids(db_));
  statements& st = *stmts_;
  log_changes changes;
  in_transaction(db_, "compact", [&] {
    write_chunks(db_, st.chunk_get.get(), st.chunk_put.get(), st.buf, moving.windows, out);
    sqlite3_bind_int64(st.set_boundary.get(), 1, target);
    step_done(db_, st.set_boundary.get(), "compact: set the boundary");
    changes = rewrite_log(db_, st.insert_log.get(), st.delete_log.get(), st.buf, *head_,
                          log_polls_, moving, target, out);
  });

  for (int64_t id : changes.deleted)
    log_polls_.erase(id);
  for (const auto& [id, n] : changes.new_counts)
    log_polls_[id] = n;
  head_->compacted(target, [&](int64_t, int64_t ts) { return ts < target; }, changes.renamed);
  return out;
}

} // namespace edgemes::storage
