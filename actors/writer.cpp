#include "actors/writer.hpp"

#include "log/log.hpp"

#include "clock/clock.hpp"
#include "storage/head.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <thread>

namespace edgemes::actors {

namespace {

using clock::wall_ms;

// The writer's own timer: sent only by the writer to itself, so it is in the
// interface the writer is spawned with (writer_impl_actor) but not in the
// public writer_actor handed out by spawn_writer.
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using writer_impl_actor = writer_actor::extend<caf::reacts_to<flush_atom>>;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// One retention pass: chunks until nothing older than the cutoff is left.
struct retention_pass {
  int64_t chunks = 0;          // chunk rows deleted
  int64_t polls = 0;           // polls they held
  int64_t state_changes = 0;
  int64_t transactions = 0;
};

struct writer_state {
  std::unique_ptr<storage::writer> db;
  writer_settings settings;
  std::shared_ptr<ingest_gauge> gauge;
  std::deque<poll_report> pending;  // arrival order; front is oldest
  int64_t pending_samples = 0;
  writer_totals totals;
  std::string last_error;  // logged once per change
  bool closed = false;

  // Housekeeping (steady-clock ms unless named otherwise).
  int64_t wal_growth_max = 0;      // largest -wal growth one commit caused
  int64_t next_passive_ms = 0;
  int64_t next_truncate_ms = 0;    // after a TRUNCATE blocked by readers
  int64_t next_wal_warn_ms = 0;
  int64_t next_retention_ms = 0;
  retention_pass pass;
  std::string last_housekeeping_error;
  std::string last_compaction_error;
  int64_t dropped_logged = 0;      // dropped samples already in the log
  int64_t dropped_reports_logged = 0;
  int64_t last_drop_log_ms = std::numeric_limits<int64_t>::min() / 2;

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
    // The polls are moved out of `pending` (no copy of their values) and
    // moved back if the commit fails: pending keeps them until committed.
    std::vector<storage::poll_row> polls;
    std::vector<size_t> from;  // polls[j] came from pending[from[j]]
    std::vector<storage::state_row> states;
    std::vector<std::pair<int64_t, const storage::status_row*>> statuses;  // (machine, status)
    statuses.reserve(count);
    polls.reserve(count);
    from.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      auto& r = pending[i];
      if (!r.poll.values.empty()) {
        polls.push_back(std::move(r.poll));
        from.push_back(i);
      }
      if (r.has_state)
        states.push_back(r.state);
      statuses.emplace_back(r.status.machine_id, &r.status);
    }
    auto give_back = [&] {
      for (size_t j = 0; j < polls.size(); ++j)
        pending[from[j]].poll = std::move(polls[j]);
    };
    // The latest status per machine (the last report of each), in machine
    // order: a stable sort instead of a map node per report.
    std::stable_sort(statuses.begin(), statuses.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<storage::status_row> status_rows;
    status_rows.reserve(statuses.size());
    for (size_t i = 0; i < statuses.size(); ++i)
      if (i + 1 == statuses.size() || statuses[i + 1].first != statuses[i].first)
        status_rows.push_back(*statuses[i].second);
    int64_t wal_before = db->wal_size_bytes();
    try {
      auto st = db->commit(polls, states, status_rows);
      gauge->record_commit(st.rows, st.samples, st.duplicates, wall_ms());
      record_head();
      totals.rows += st.rows;
      totals.samples += st.samples;
    } catch (const storage::db_error& e) {
      std::string text = e.what();
      give_back();
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
    wal_growth_max = std::max(wal_growth_max, db->wal_size_bytes() - wal_before);
    keep_wal_bounded();
    return true;
  }

  void housekeeping_error(const std::string& what, const storage::db_error& e) {
    std::string text = what + ": " + e.what();
    if (text != last_housekeeping_error)
      log::warn("writer", text);
    last_housekeeping_error = text;
  }

  // TRUNCATE before the next commit could take the -wal past its limit.
  void keep_wal_bounded() {
    int64_t limit = settings.wal_restart_bytes;
    int64_t size = db->wal_size_bytes();
    int64_t threshold = std::max(limit / 4, limit - 2 * wal_growth_max);
    int64_t now = steady_ms();
    if (size <= threshold || now < next_truncate_ms)
      return;
    try {
      auto r = db->checkpoint(storage::checkpoint_mode::truncate);
      if (!r.busy)
        return;
      // Readers held it back for busy_timeout_ms: don't stall every commit on it.
      next_truncate_ms = now + settings.checkpoint_interval_ms;
      if (now >= next_wal_warn_ms) {
        log::warn("writer", "the -wal file is " + mib(db->wal_size_bytes()) + " (limit " +
                                mib(limit) +
                                ") and a TRUNCATE checkpoint was blocked by readers; retrying");
        next_wal_warn_ms = now + 10000;
      }
    } catch (const storage::db_error& e) {
      next_truncate_ms = now + settings.checkpoint_interval_ms;
      housekeeping_error("checkpoint (TRUNCATE) failed", e);
    }
  }

  void routine_checkpoint(int64_t now) {
    if (now < next_passive_ms)
      return;
    next_passive_ms = now + settings.checkpoint_interval_ms;
    try {
      db->checkpoint(storage::checkpoint_mode::passive);
    } catch (const storage::db_error& e) {
      housekeeping_error("checkpoint (PASSIVE) failed", e);
    }
  }

  // One chunk per tick while a backlog exists; a failing disk skips it.
  void retention(int64_t now) {
    if (settings.retention_ms <= 0 || now < next_retention_ms || !last_error.empty())
      return;
    int64_t cutoff = wall_ms() - settings.retention_ms;
    try {
      auto r = db->delete_before(cutoff, settings.retention_chunk_rows);
      pass.chunks += r.chunks;
      pass.polls += r.polls;
      pass.state_changes += r.state_changes;
      pass.transactions += 1;
      if (!r.done)
        return;  // more next tick
      if (pass.chunks + pass.state_changes > 0)
        log::info("writer", "retention: deleted " + std::to_string(pass.chunks) +
                                " chunks (" + std::to_string(pass.polls) + " polls) and " +
                                std::to_string(pass.state_changes) +
                                " state changes older than " +
                                std::to_string(settings.retention_ms / 86400000) + " days in " +
                                std::to_string(pass.transactions) + " transactions of at most " +
                                std::to_string(settings.retention_chunk_rows) + " rows");
      pass = {};
      next_retention_ms = now + settings.retention_idle_ms;
    } catch (const storage::db_error& e) {
      next_retention_ms = now + settings.retention_idle_ms;
      housekeeping_error("retention failed, next try in " +
                             std::to_string(settings.retention_idle_ms / 1000) + " s",
                         e);
    }
  }

  // Dropped samples are never silent: logged with their count, rate-limited.
  void log_drops(int64_t now, bool final) {
    int64_t dropped = gauge->dropped_samples();
    if (dropped <= dropped_logged)
      return;
    if (!final && now - last_drop_log_ms < settings.drop_log_interval_ms)
      return;
    int64_t reports = gauge->dropped_reports();
    log::warn("writer", "queue full (writer.max_queue " + std::to_string(gauge->max_queue()) +
                            " samples): dropped " + std::to_string(dropped - dropped_logged) +
                            " samples of " + std::to_string(reports - dropped_reports_logged) +
                            " polls since the last report, " + std::to_string(dropped) +
                            " samples since start");
    dropped_logged = dropped;
    dropped_reports_logged = reports;
    last_drop_log_ms = now;
  }

  // The head's size for /health (this thread is the head's only writer).
  void record_head() {
    auto h = db->shared_head();
    gauge->record_head(h->polls(), h->bytes(), db->head_spills());
  }

  // Moves the windows that ended grace_ms ago from the ingest log into
  // chunks (storage/compaction.cpp); a failing disk skips it.
  void compaction() {
    if (!last_error.empty() || !db->compaction_due())
      return;
    try {
      auto r = db->compact();
      totals.compactions += 1;
      gauge->record_compaction(r.chunks, r.polls, r.late_polls);
      record_head();
      if (!last_compaction_error.empty()) {
        log::info("writer", "compaction succeeds again after: " + last_compaction_error);
        last_compaction_error.clear();
      }
    } catch (const storage::db_error& e) {
      std::string text = std::string{"compaction failed, will retry: "} + e.what();
      if (text != last_compaction_error)
        log::warn("writer", text);
      last_compaction_error = text;
    }
  }

  void housekeeping() {
    int64_t now = steady_ms();
    compaction();
    keep_wal_bounded();
    routine_checkpoint(now);
    retention(now);
    log_drops(now, false);
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
    log_drops(steady_ms(), true);
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

writer_impl_actor::behavior_type
writer_impl(writer_impl_actor::stateful_pointer<writer_state> self,
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
    [self](write_job& job) {
      auto& st = self->state;
      if (st.closed || !job.run)
        return;  // stopping: dropped, its caller times out (HTTP stops before the writer)
      auto reply = job.run(*st.db);  // run_write made it guarded and transactional
      if (job.reply_to)
        job.reply_to->deliver(std::move(reply));
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

query_result run_write(const writer_actor& writer, write_job job, std::chrono::milliseconds wait) {
  if (!writer)
    return {query_outcome::stopped, {}, {}, 0};
  auto p = std::make_shared<detail::pending_job>();
  job.reply_to = std::shared_ptr<reply_slot>(p, &p->slot);
  job.run = [fn = std::move(job.run), deadline = job.deadline, p](storage::writer& db) {
    if (std::chrono::steady_clock::now() >= deadline) {
      p->outcome = query_outcome::timeout;  // waited too long behind telemetry commits
      return query_reply{};
    }
    return detail::guarded(*p, [&] {
      query_reply reply;
      db.write_transaction([&] {
        reply = fn(db);
        return reply.status < 400;  // a refusal writes nothing
      });
      return reply;
    });
  };
  caf::anon_send(writer, std::move(job));
  return detail::collect(*p, wait);
}

writer_actor spawn_writer(caf::actor_system& sys, std::unique_ptr<storage::writer> db,
                          writer_settings settings, std::shared_ptr<ingest_gauge> gauge) {
  auto init = std::make_shared<writer_state>();
  init->db = std::move(db);
  init->settings = settings;
  init->gauge = std::move(gauge);
  writer_impl_actor self = sys.spawn<caf::detached>(writer_impl, std::move(init));
  return self;  // the public face: flush_atom is not in it
}

} // namespace edgemes::actors
