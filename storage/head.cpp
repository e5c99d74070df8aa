// storage/head: see head.hpp for the contract.
//
// Why the publication is safe: a snapshot lists blocks and the number of valid
// entries of the last one. The writer only writes entries at index >=
// last_count of the last block (or a new block), and then stores a new
// snapshot with std::atomic_store (release). A reader that loads a snapshot
// with std::atomic_load (acquire) sees every entry the snapshot counts fully
// written, and the entries written later are ones it never reads. Blocks are
// never modified below a published count and never freed while a snapshot
// holds them (shared_ptr).
#include "storage/head.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace edgemes::storage {

namespace {

// What a block costs: its fixed part and its values (heap overheads aside).
int64_t block_bytes(const head::block& b) {
  return static_cast<int64_t>(sizeof(head::block) +
                              b.capacity * (b.nslots * sizeof(double) + 2 * sizeof(int64_t)));
}

} // namespace

std::shared_ptr<const head::snapshot> head::load(int64_t machine_id) const {
  const machine* m = nullptr;
  {
    std::shared_lock lock(map_mutex_);
    auto it = machines_.find(machine_id);
    if (it == machines_.end())
      return nullptr;
    m = it->second.get();  // machines are never erased while readers run
  }
  return std::atomic_load(&m->published);
}

head::machine& head::at(int64_t machine_id) {
  // Only the writer inserts; readers hold the shared lock while they look up.
  auto it = machines_.find(machine_id);
  if (it != machines_.end())
    return *it->second;
  std::unique_lock lock(map_mutex_);
  return *machines_.emplace(machine_id, std::make_unique<machine>()).first->second;
}

bool head::contains(int64_t machine_id, int64_t ts) const {
  auto it = machines_.find(machine_id);
  if (it == machines_.end())
    return false;
  const machine& m = *it->second;
  if (ts > m.newest)
    return false;  // the common case: a poll newer than every one held
  for (size_t b = m.blocks.size(); b-- > 0;) {
    const block& bl = *m.blocks[b];
    const size_t n = bl.used;
    for (size_t i = n; i-- > 0;)
      if (bl.ts[i] == ts)
        return true;
  }
  return false;
}

void head::append(int64_t machine_id, int64_t ts, const std::vector<double>& values,
                  int64_t log_id) {
  machine& m = at(machine_id);
  if (m.blocks.empty() || m.blocks.back()->used == m.blocks.back()->capacity ||
      m.blocks.back()->nslots < values.size()) {
    // A new block; its width is the widest the machine has needed so far.
    size_t slots = values.size();
    if (!m.blocks.empty())
      slots = std::max(slots, m.blocks.back()->nslots);
    m.blocks.push_back(std::make_shared<block>(
        std::max<size_t>(slots, 1),
        block::next_capacity(m.blocks.empty() ? nullptr : m.blocks.back().get())));
    bytes_ += block_bytes(*m.blocks.back());
  }
  block& bl = *m.blocks.back();
  const size_t i = bl.used;
  bl.ts[i] = ts;
  bl.log_id[i] = log_id;
  double* out = &bl.values[i * bl.nslots];
  for (size_t s = 0; s < bl.nslots; ++s)
    out[s] = s < values.size() && std::isfinite(values[s]) ? values[s] : NAN;
  bl.used = i + 1;
  m.newest = std::max(m.newest, ts);
  m.dirty = true;
  newest_ts_ = std::max(newest_ts_, ts);
  ++polls_;
}

void head::set_status(int64_t machine_id, const status_row& s) {
  machine& m = at(machine_id);
  m.has_status = true;
  m.status = s;
  m.dirty = true;
}

void head::publish() {
  for (auto& [id, mp] : machines_) {
    machine& m = *mp;
    if (!m.dirty)
      continue;
    auto snap = std::make_shared<snapshot>();
    snap->boundary = boundary_;
    snap->spilled_below = spilled_below_;
    snap->blocks.assign(m.blocks.begin(), m.blocks.end());
    snap->last_count = m.blocks.empty() ? 0 : m.blocks.back()->used;
    snap->has_status = m.has_status;
    snap->status = m.status;
    std::atomic_store(&m.published, std::shared_ptr<const snapshot>(std::move(snap)));
    m.dirty = false;
  }
}

void head::each_poll(
    const std::function<void(int64_t, int64_t, const double*, size_t, int64_t)>& f) const {
  for (const auto& [id, mp] : machines_) {
    const machine& m = *mp;
    for (size_t b = 0; b < m.blocks.size(); ++b) {
      const block& bl = *m.blocks[b];
      const size_t n = bl.used;
      for (size_t i = 0; i < n; ++i)
        f(id, bl.ts[i], &bl.values[i * bl.nslots], bl.nslots, bl.log_id[i]);
    }
  }
}

void head::rebuild(const std::function<bool(int64_t, int64_t, int64_t)>& drop, bool track_spill) {
  for (auto& [id, mp] : machines_) {
    machine& m = *mp;
    // Rebuilt into new blocks: published blocks stay as they are for the
    // readers that hold them.
    std::vector<std::shared_ptr<block>> kept;
    bool dropped = false;
    for (size_t b = 0; b < m.blocks.size(); ++b) {
      const block& bl = *m.blocks[b];
      const size_t n = bl.used;
      for (size_t i = 0; i < n; ++i) {
        if (drop(id, bl.ts[i], bl.log_id[i])) {
          --polls_;
          dropped = true;
          if (track_spill)
            m.spilled_newest = std::max(m.spilled_newest, bl.ts[i]);
          continue;
        }
        // Blocks only widen: a wider poll starts a new block.
        if (kept.empty() || kept.back()->used == kept.back()->capacity ||
            kept.back()->nslots < bl.nslots)
          kept.push_back(std::make_shared<block>(
              bl.nslots, block::next_capacity(kept.empty() ? nullptr : kept.back().get())));
        block& dst = *kept.back();
        const size_t k = dst.used++;
        dst.ts[k] = bl.ts[i];
        dst.log_id[k] = bl.log_id[i];
        for (size_t s = 0; s < dst.nslots; ++s)
          dst.values[k * dst.nslots + s] = s < bl.nslots ? bl.values[i * bl.nslots + s] : NAN;
      }
    }
    if (dropped) {
      for (const auto& b : m.blocks)
        bytes_ -= block_bytes(*b);
      for (const auto& b : kept)
        bytes_ += block_bytes(*b);
      m.blocks = std::move(kept);
      m.newest = std::numeric_limits<int64_t>::min();
      for (size_t b = 0; b < m.blocks.size(); ++b)
        for (size_t i = 0; i < m.blocks[b]->used; ++i)
          m.newest = std::max(m.newest, m.blocks[b]->ts[i]);
    }
    m.dirty = true;  // the boundary or the spill level changed for every machine
  }
  publish();
}

void head::compacted(int64_t boundary, const std::function<bool(int64_t, int64_t)>& moved) {
  boundary_ = boundary;
  rebuild([&](int64_t id, int64_t ts, int64_t) { return moved(id, ts); }, false);
}

void head::spill(int64_t below) {
  if (below <= spilled_below_)
    return;
  spilled_below_ = below;
  rebuild([below](int64_t, int64_t, int64_t log_id) { return log_id < below; }, true);
}

void head::clear_spill() {
  if (spilled_below_ == 0)
    return;
  spilled_below_ = 0;
  for (auto& [id, m] : machines_) {
    m->spilled_newest = std::numeric_limits<int64_t>::min();
    m->dirty = true;
  }
  publish();
}

int64_t head::spilled_newest(int64_t machine_id) const {
  auto it = machines_.find(machine_id);
  return it == machines_.end() ? std::numeric_limits<int64_t>::min() : it->second->spilled_newest;
}

void head::set_boundary(int64_t boundary) {
  boundary_ = boundary;
  for (auto& [id, m] : machines_)
    m->dirty = true;
}

void head::clear() {
  for (auto& [id, mp] : machines_) {
    mp->blocks.clear();
    mp->newest = std::numeric_limits<int64_t>::min();
    mp->spilled_newest = std::numeric_limits<int64_t>::min();
    mp->has_status = false;
    mp->dirty = true;
  }
  polls_ = 0;
  bytes_ = 0;
  newest_ts_ = std::numeric_limits<int64_t>::min();
  boundary_ = std::numeric_limits<int64_t>::min();
  spilled_below_ = 0;
}

} // namespace edgemes::storage
