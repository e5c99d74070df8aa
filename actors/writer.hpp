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
// Messages: poll_report (append), flush_atom (tick), stop_atom -> writer_totals
// (commit everything held, TRUNCATE checkpoint, close, quit). An exit message
// does the same without the reply.
#pragma once

#include "actors/ingest.hpp"
#include "actors/messages.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace edgemes::actors {

struct writer_settings {
  int64_t max_batch = 5000;
  int64_t flush_interval_ms = 200;
  int64_t wal_restart_bytes = 64LL << 20;  // RESTART checkpoint when the -wal grows past this
};

writer_actor spawn_writer(caf::actor_system& sys, std::unique_ptr<storage::writer> db,
                          writer_settings settings, std::shared_ptr<ingest_gauge> gauge);

} // namespace edgemes::actors
