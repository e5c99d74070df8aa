#include "actors/writer.hpp"

#include "log/log.hpp"

#include "clock/clock.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <map>

namespace edgemes::actors {

namespace {

using clock::wall_ms;

struct writer_state {
  std::unique_ptr<storage::writer> db;
  writer_settings settings;
  std::shared_ptr<ingest_gauge> gauge;
  std::deque<poll_report> pending;  // arrival order; front is oldest
  int64_t pending_samples = 0;
  writer_totals totals;
  std::string last_error;  // logged once per change
  bool closed = false;

  // Commits the oldest reports holding at most max_batch samples (at least one
  // report). Returns false when the commit failed; nothing is removed then.
  bool commit_chunk() {
    size_t count = 0;
    int64_t samples = 0;
    while (count < pending.size()) {
      auto next = pending[count].samples;
      if (count > 0 && samples + next > settings.max_batch)
        break;
      samples += next;
      ++count;
    }
    std::vector<storage::poll_row> polls;
    std::vector<storage::state_row> states;
    std::map<int64_t, storage::status_row> statuses;  // latest per machine
    polls.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const auto& r = pending[i];
      if (!r.poll.values.empty())
        polls.push_back(r.poll);
      if (r.has_state)
        states.push_back(r.state);
      statuses[r.status.machine_id] = r.status;
    }
    std::vector<storage::status_row> status_rows;
    status_rows.reserve(statuses.size());
    for (auto& kv : statuses)
      status_rows.push_back(std::move(kv.second));
    try {
      auto st = db->commit(polls, states, status_rows);
      gauge->record_commit(st.rows, st.samples, st.duplicates, wall_ms());
      totals.rows += st.rows;
      totals.samples += st.samples;
    } catch (const storage::db_error& e) {
      std::string text = e.what();
      gauge->set_writer_error(text);
      if (text != last_error)
        log::error("writer", std::string{"commit failed, will retry: "} + text);
      last_error = text;
      return false;
    }
    if (!last_error.empty()) {
      log::info("writer", "commits succeed again after: " + last_error);
      last_error.clear();
      gauge->set_writer_error("");
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(count));
    pending_samples -= samples;
    gauge->release(static_cast<int64_t>(count), samples);
    return true;
  }

  void housekeeping() {
    if (db->wal_size_bytes() <= settings.wal_restart_bytes)
      return;
    try {
      auto r = db->checkpoint(storage::checkpoint_mode::restart);
      if (r.busy)
        log::warn("writer", "WAL past its limit and a RESTART checkpoint was blocked by readers");
    } catch (const storage::db_error& e) {
      log::warn("writer", std::string{"checkpoint failed: "} + e.what());
    }
  }

  // Commits everything held; on a persisting error gives up after a few tries.
  void flush_all(int attempts) {
    while (!pending.empty()) {
      if (commit_chunk())
        continue;
      if (--attempts <= 0)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void finish() {
    if (closed)
      return;
    closed = true;
    flush_all(10);
    if (!pending.empty()) {
      totals.lost_samples = pending_samples;
      log::error("writer", "stopping with " + std::to_string(pending_samples) +
                               " samples that could not be committed: " + last_error);
      gauge->release(static_cast<int64_t>(pending.size()), pending_samples);
      pending.clear();
      pending_samples = 0;
    }
    try {
      db->close();
    } catch (const storage::db_error& e) {
      log::error("writer", std::string{"closing the database failed: "} + e.what());
    }
  }
};

writer_actor::behavior_type writer_impl(writer_actor::stateful_pointer<writer_state> self,
                                        std::shared_ptr<writer_state> init) {
  self->state = std::move(*init);
  auto interval = std::chrono::milliseconds(self->state.settings.flush_interval_ms);
  self->delayed_send(self, interval, flush_atom::value);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.finish();
    self->quit(msg.reason);
  });
  return {
    [self](poll_report& r) {
      auto& st = self->state;
      if (st.closed) {
        st.gauge->release(1, r.samples);
        return;
      }
      st.pending_samples += r.samples;
      st.pending.push_back(std::move(r));
      while (st.pending_samples >= st.settings.max_batch && st.commit_chunk()) {
      }
    },
    [self, interval](flush_atom) {
      auto& st = self->state;
      if (st.closed)
        return;
      while (!st.pending.empty() && st.commit_chunk()) {
      }
      st.housekeeping();
      self->delayed_send(self, interval, flush_atom::value);
    },
    [self](stop_atom) -> writer_totals {
      self->state.finish();
      self->quit();
      return self->state.totals;
    },
  };
}

} // namespace

writer_actor spawn_writer(caf::actor_system& sys, std::unique_ptr<storage::writer> db,
                          writer_settings settings, std::shared_ptr<ingest_gauge> gauge) {
  auto init = std::make_shared<writer_state>();
  init->db = std::move(db);
  init->settings = settings;
  init->gauge = std::move(gauge);
  return sys.spawn<caf::detached>(writer_impl, std::move(init));
}

} // namespace edgemes::actors
