// storage/reader_batch: reader::read_machines and reader::all_metrics — the
// inputs of many machines over one range (what OEE of a line or the floor
// reads) with a read transaction per group of machines instead of two or
// three per machine.
//
// Each machine's result is computed by the same code as states() and
// count_increases() (detail::states_in, detail::count_in_transaction), so it
// equals theirs for the same file state — the state intervals excepted,
// which OEE does not use and are left out (states.shares only); the group's head snapshots are
// loaded before its transaction begins, as a single call loads its one
// (storage/reader_scan.cpp: the head first, then the transaction).
#include "storage/reader.hpp"

#include "storage/connection.hpp"
#include "storage/head.hpp"
#include "storage/reader_internal.hpp"

#include <algorithm>

namespace edgemes::storage {

std::vector<machine_reads> reader::read_machines(const std::vector<machine_request>& machines,
                                                 int64_t from_ms, int64_t to_ms, int64_t now_ms,
                                                 int64_t lookback_ms, size_t per_transaction) {
  std::vector<machine_reads> out(machines.size());
  const size_t group = std::max<size_t>(1, per_transaction);
  statements& st = *stmts_;
  std::vector<std::shared_ptr<const head::snapshot>> snaps;
  for (size_t first = 0; first < machines.size(); first += group) {
    const size_t last = std::min(machines.size(), first + group);
    snaps.clear();
    for (size_t k = first; k < last; ++k)
      snaps.push_back(head_ ? head_->load(machines[k].machine_id) : nullptr);
    detail::in_read(db_, st.begin.get(), st.commit.get(), st.rollback.get(), "read machines", [&] {
      for (size_t k = first; k < last; ++k) {
        const machine_request& m = machines[k];
        out[k].states = detail::states_in(db_, st.states.get(), m.machine_id, from_ms, to_ms,
                                          now_ms, false);
        out[k].counted = detail::count_in_transaction(
            db_, st.scan, st.hours.get(), deadline_, head_.get(), snaps[k - first].get(),
            m.machine_id, m.slots, from_ms, to_ms, lookback_ms);
      }
    });
  }
  return out;
}

std::map<int64_t, std::vector<metric_info>> reader::all_metrics() {
  sqlite3_stmt* s = stmts_->all_metrics.get();
  detail::reset_on_exit r(s);
  std::map<int64_t, std::vector<metric_info>> out;
  while (detail::next_row(db_, s, "metrics"))
    out[sqlite3_column_int64(s, 0)].push_back(
        {detail::column_text(s, 1), sqlite3_column_int(s, 2)});
  return out;
}

} // namespace edgemes::storage
