// actors/writer: the single writer — owns the only write connection.
//
// Every telemetry row, state change and machine status reaches the file
// through this actor, and so does every checkpoint (the SQLite 3.40 WAL-reset
// race cannot happen with one writing/checkpointing connection). It runs
// detached (its own thread): SQLite calls block, and must not block CAF's
// scheduler threads.
//
// Batching contract: reports are appended to the current batch in arrival
// order. A batch is committed in one BEGIN IMMEDIATE ... COMMIT as soon as it
// holds max_batch samples, and at the latest flush_interval_ms after the
// previous flush tick — whichever comes first. A failed commit (disk full,
// file read-only) keeps the batch, reports the error in the gauge and the
// log, and is retried on the next tick; meanwhile pollers' reservations hit
// max_queue and further samples are dropped and counted. Reservations are
// released only once their samples are committed.
//
// Housekeeping, on the flush tick and after every commit, on this same
// connection (never another: see storage/database.hpp):
// - a PASSIVE checkpoint every checkpoint_interval_ms (never waits);
// - a TRUNCATE checkpoint when the -wal file nears wal_max_bytes, i.e. when
//   its size plus twice the largest growth one commit has caused so far passes
//   it (readers that never pause starve PASSIVE checkpoints; TRUNCATE waits
//   for them at most busy_timeout_ms, then the WAL restarts at zero bytes);
// - retention: with retention_ms > 0, one delete_before() chunk of at most
//   retention_chunk_rows rows per tick while a backlog exists, then a new pass
//   every retention_idle_ms;
// - dropped samples (ingest_gauge) are logged with their count at most once
//   per drop_log_interval_ms while drops continue, and once when they stop.
//
// Write jobs (write_job, actors/messages.hpp): the MES layer's writes reach
// the file only here. Each runs when the writer takes it from its mailbox,
// between two telemetry commits, in a transaction of its own: committed whole
// when its reply is a success, rolled back when it is a refusal (status >= 400)
// or when it throws (disk full: the caller gets the db_error's code and message
// in its query_result). A job waits behind at most the commit in progress and
// the reports queued before it; one past its deadline is dropped unrun.
//
// Messages (writer_actor): poll_report (append), write_job (run, reply on
// its slot), stop_atom -> writer_totals (commit everything held, TRUNCATE
// checkpoint, close, quit). An exit message does the same without the reply.
// The flush tick is the writer's own timer, private to writer.cpp.
#pragma once

#include "actors/ingest.hpp"
#include "actors/job.hpp"
#include "actors/messages.hpp"
#include "config/config.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace edgemes::actors {

// What the config sets defaults from config/config.hpp (the one home of a
// user-visible default, docs/CONFIG.md); the rest is the writer's own.
struct writer_settings {
  // samples per transaction, at most
  int64_t max_batch = config::writer_config{}.max_batch;
  // tick: commit what is held, housekeeping
  int64_t flush_interval_ms = config::writer_config{}.flush_interval_ms;
  // the -wal is kept under this (database.wal_max_bytes)
  int64_t wal_restart_bytes = config::database_config{}.wal_max_bytes;
  // routine PASSIVE checkpoint
  int64_t checkpoint_interval_ms = config::database_config{}.checkpoint_interval_ms;
  // delete telemetry older than this; 0 = keep all (database.retention_days)
  int64_t retention_ms = config::database_config{}.retention_days * 86'400'000LL;
  int64_t retention_chunk_rows = 2000;     // rows per retention transaction, at most
  int64_t retention_idle_ms = 60000;       // pause between passes once caught up
  int64_t drop_log_interval_ms = 5000;     // at most one "dropped" log line per this
};

// Sends `job` to `writer` and waits at most `wait` for its outcome (see
// "Write jobs" above; job.deadline is when the writer drops it unrun).
// Thread-safe; blocks the calling thread, so never call it from a CAF
// scheduler thread. A null `writer` answers stopped.
query_result run_write(const writer_actor& writer, write_job job, std::chrono::milliseconds wait);

writer_actor spawn_writer(caf::actor_system& sys, std::unique_ptr<storage::writer> db,
                          writer_settings settings, std::shared_ptr<ingest_gauge> gauge);

} // namespace edgemes::actors
