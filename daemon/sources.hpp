// daemon/sources: every machine's source, with its metrics and state
// pointer, built from the config the way `edgemes run` builds them.
//
// `edgemes check-config` calls the same functions as a dry run (a source opens
// no connection before its first poll), so no config passes the check and then
// fails the start: the URL parser, the adapter factory and the JSON pointers
// are judged by the code that will use them.
#pragma once

#include "adapters/adapter.hpp"
#include "adapters/mqtt.hpp"
#include "config/config.hpp"

#include <memory>
#include <vector>

namespace edgemes::daemon {

struct machine_plan {
  const config::machine_config* cfg;  // points into the config passed to build_sources
  std::shared_ptr<adapters::source> source;  // polled: yields the cfg's metrics, in order
  // Pushed (mqtt): decodes the machine's messages into its metrics, in order;
  // set instead of `source`.
  std::shared_ptr<const adapters::json_message> pushed;
};

// Fills what the config leaves to the adapters: a sim machine's standard
// metrics and its state pointer.
void resolve_defaults(config::config& cfg);

// One plan per machine, in config order, into `out`. Returns a problem (the
// machine's JSON path and what is wrong) for each machine whose source cannot
// be built: its source settings (path .../source) are judged first, then its
// metric and state pointers (the machine's path). Such a machine's plan has a
// null source.
std::vector<config::problem> build_sources(const config::config& cfg, std::vector<machine_plan>& out);

} // namespace edgemes::daemon
