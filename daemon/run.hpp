// daemon/run: the `edgemes run` lifecycle.
//
// Start-up order: config resolved -> writer connection opened (creates the
// file, WAL, schema) and the catalog synced -> read-only connections opened
// (after the writer, so the WAL index exists) -> actors spawned -> HTTP bound.
// Any failure before serving prints what went wrong and returns 1.
//
// Shutdown order that loses nothing (on SIGINT/SIGTERM): stop accepting HTTP
// -> pollers stop and hand in the poll in flight -> the writer commits all it
// holds, TRUNCATE-checkpoints and closes -> query actors exit. Returns 0.
#pragma once

#include "config/config.hpp"

#include <optional>
#include <string>

namespace edgemes::daemon {

struct run_overrides {
  std::optional<int> port;
  std::optional<std::string> db_path;
  std::optional<std::string> bind;
};

// REQUIRES: SIGINT and SIGTERM blocked in every thread (block them in main
// before any thread starts); run() waits for them with sigwait.
int run(config::config cfg, const std::string& origin, const run_overrides& overrides);

} // namespace edgemes::daemon
