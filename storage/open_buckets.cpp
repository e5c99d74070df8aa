// storage/open_buckets: see open_buckets.hpp.
#include "storage/open_buckets.hpp"

namespace edgemes::storage::detail {

open_buckets::machine_state& open_buckets::before_insert(int64_t machine_id) {
  auto [it, fresh] = machines_.try_emplace(machine_id);
  if (fresh) {
    try {
      load(machine_id, it->second);
    } catch (...) {
      machines_.erase(it);
      throw;
    }
  }
  return it->second;
}

void open_buckets::load(int64_t machine_id, machine_state& st) {
  auto newest = store_.newest_raw(machine_id);
  if (auto sealed = store_.newest_rollup(machine_id))
    st.sealed = *sealed;
  if (!newest)
    return;
  const int64_t bucket = floor_to(*newest, rollup_ms);
  if (st.sealed >= bucket)
    return;  // closed cleanly: the newest bucket has its row
  // Closed buckets between the newest rollup row and the newest bucket with
  // no row of their own (raw rows written by something other than this
  // writer): build them, or the reader's coverage would skip them.
  const int64_t gap = st.sealed == std::numeric_limits<int64_t>::min()
                          ? st.sealed
                          : st.sealed + rollup_ms;
  if (gap < bucket && store_.rebuild(machine_id, gap, bucket) > 0)
    st.sealed = store_.newest_rollup(machine_id).value_or(st.sealed);
  st.open = true;
  st.start = bucket;
  st.last_ts = store_.aggregate_bucket(machine_id, bucket, st.acc).value_or(*newest);
}

void open_buckets::after_insert(machine_state& st, int64_t machine_id, int64_t ts,
                                const std::vector<double>& values) {
  const int64_t bucket = floor_to(ts, rollup_ms);
  if (st.open && bucket == st.start) {
    if (ts > st.last_ts) {
      add_poll(st.acc, values);
      st.last_ts = ts;
    } else {
      // Out of ts order within the open bucket: `last` and the order of the
      // additions must be those of the raw rows.
      st.last_ts = store_.aggregate_bucket(machine_id, bucket, st.acc).value_or(st.last_ts);
    }
    return;
  }
  if (st.open ? bucket > st.start : bucket > st.sealed) {
    if (st.open) {
      store_.write(machine_id, st.start, st.acc);  // the open bucket closes
      st.sealed = st.start;
    }
    st.open = true;
    st.start = bucket;
    st.acc.clear();
    add_poll(st.acc, values);
    st.last_ts = ts;
    return;
  }
  // An older bucket (the rare path): re-aggregate it from its raw rows,
  // this poll's included, and replace its row.
  bucket_stats acc;
  store_.aggregate_bucket(machine_id, bucket, acc);
  store_.write(machine_id, bucket, acc);
  if (bucket > st.sealed)
    st.sealed = bucket;
}

void open_buckets::flush_all() {
  std::vector<int64_t> ids;
  {
    stmt_ptr list = prepare(store_.db(), "SELECT id FROM machines ORDER BY id");
    int rc;
    while ((rc = sqlite3_step(list.get())) == SQLITE_ROW)
      ids.push_back(sqlite3_column_int64(list.get(), 0));
    if (rc != SQLITE_DONE)
      fail(store_.db(), rc, "rollups: list machines");
  }
  for (int64_t id : ids) {
    machine_state& st = before_insert(id);
    if (!st.open)
      continue;
    store_.write(id, st.start, st.acc);
    st.sealed = st.start;
    st.open = false;
    st.acc.clear();
  }
}

} // namespace edgemes::storage::detail
