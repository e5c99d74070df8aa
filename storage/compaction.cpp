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

  std::set<int64_t> machines;
  {
    stmt_ptr q = detail::prepare(db_, "SELECT id FROM machines");
    while (detail::next_row(db_, q.get(), "compact: list machines"))
      machines.insert(sqlite3_column_int64(q.get(), 0));
  }

  // (window start, machine) -> polls; and per log row, how many of its polls move.
  std::map<std::pair<int64_t, int64_t>, window_polls> windows;
  std::unordered_map<int64_t, int64_t> moving;
  head_->each_poll([&](int64_t machine, int64_t ts, const double* v, size_t nslots,
                       int64_t log_id) {
    if (ts >= target)
      return;
    ++moving[log_id];
    ++out.polls;
    if (ts < boundary)
      ++out.late_polls;
    if (!machines.count(machine))
      return;  // its machine was deleted (a line removed by hand): nothing to keep
    auto& wp = windows[{floor_to(ts, w), machine}];
    wp.ts.push_back(ts);
    wp.values.emplace_back(v, v + nslots);
  });

  statements& st = *stmts_;
  std::unordered_map<int64_t, int64_t> renamed;
  std::vector<int64_t> deleted;
  std::unordered_map<int64_t, int64_t> new_counts;
  in_transaction(db_, "compact", [&] {
    for (auto& [key, wp] : windows) {
      {
        sqlite3_stmt* q = st.chunk_get.get();
        detail::reset_on_exit r(q);
        sqlite3_bind_int64(q, 1, key.first);
        sqlite3_bind_int64(q, 2, key.second);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
          if (!merge_existing(sqlite3_column_blob(q, 0),
                              static_cast<size_t>(sqlite3_column_bytes(q, 0)), wp))
            throw db_error(SQLITE_CORRUPT, "compact: the chunk of machine " +
                                               std::to_string(key.second) + " at " +
                                               std::to_string(key.first) + " does not decode");
        } else if (rc != SQLITE_DONE) {
          fail(db_, rc, "compact: read a chunk");
        }
      }
      encode_window(wp, st.buf);
      sqlite3_stmt* put = st.chunk_put.get();
      sqlite3_bind_int64(put, 1, key.first);
      sqlite3_bind_int64(put, 2, key.second);
      sqlite3_bind_int64(put, 3, static_cast<int64_t>(wp.ts.size()));
      detail::bind_blob(put, 4, st.buf);
      step_done(db_, put, "compact: write a chunk");
      ++out.chunks;
      out.bytes += static_cast<int64_t>(st.buf.size());
    }
    sqlite3_bind_int64(st.set_boundary.get(), 1, target);
    step_done(db_, st.set_boundary.get(), "compact: set the boundary");

    // Log rows: gone when all their polls moved, else rewritten with the rest.
    std::unordered_map<int64_t, std::vector<log_batch::poll>> keep;
    std::vector<std::vector<double>> kept_values;  // owns the values the polls point to
    if (head_->polls() < out.polls)
      throw db_error(SQLITE_INTERNAL, "compact: head holds " + std::to_string(head_->polls()) +
                                          " polls, moving " + std::to_string(out.polls));
    kept_values.reserve(static_cast<size_t>(head_->polls() - out.polls) + 1);
    for (const auto& [id, n] : moving) {
      auto total = log_polls_.find(id);
      if (total != log_polls_.end() && total->second > n)
        keep[id];
    }
    if (!keep.empty()) {
      head_->each_poll([&](int64_t machine, int64_t ts, const double* v, size_t nslots,
                           int64_t log_id) {
        if (ts < target)
          return;
        auto k = keep.find(log_id);
        if (k == keep.end())
          return;
        kept_values.emplace_back(v, v + nslots);
        k->second.push_back({machine, ts, &kept_values.back()});
      });
    }
    for (const auto& [id, n] : moving) {
      auto k = keep.find(id);
      if (k != keep.end()) {
        st.buf.clear();
        const auto count = static_cast<int64_t>(k->second.size());
        log_batch::encode(k->second, st.buf);
        detail::bind_blob(st.insert_log.get(), 1, st.buf);
        step_done(db_, st.insert_log.get(), "compact: rewrite an ingest log row");
        renamed[id] = sqlite3_last_insert_rowid(db_);
        new_counts[renamed[id]] = count;
        ++out.log_rewritten;
      } else {
        ++out.log_deleted;
      }
      sqlite3_bind_int64(st.delete_log.get(), 1, id);
      step_done(db_, st.delete_log.get(), "compact: delete an ingest log row");
      deleted.push_back(id);
    }
  });

  for (int64_t id : deleted)
    log_polls_.erase(id);
  for (const auto& [id, n] : new_counts)
    log_polls_[id] = n;
  head_->compacted(target, [&](int64_t, int64_t ts) { return ts < target; }, renamed);
  return out;
}

} // namespace edgemes::storage
