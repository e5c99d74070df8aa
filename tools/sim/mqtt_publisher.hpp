// tools/sim/mqtt_publisher: edgemes-sim's MQTT mode — every simulated machine
// publishes its status document (the same JSON the HTTP mode serves at
// /machines/{id}/status, with "ts_ms") to `<prefix>/<id>` every interval, QoS
// 1, through one libmosquitto connection (its own network thread, which also
// reconnects). With `metrics` above a type's standard count, each document
// also carries "extra": {"x1": ..., "xK": ...} so that it has `metrics`
// values in all (half of them noisy 1-decimal readings, half counters that
// only go up, as on a real machine). While the broker is unreachable nothing is published: the
// machines' documents of that time are skipped, not queued, and counted.
#pragma once

#include "tools/sim/server.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace edgemes::sim {

struct mqtt_options {
  std::string host;
  int port = 1883;
  std::string topic_prefix = "edgemes-sim";
  int64_t interval_ms = 1000;
  uint64_t seed = 0;
  int metrics = 0;  // values per document at least (0 = the type's standard ones)
};

// The edgemes config that reads what publish() sends: one broker "sim" and
// every machine with its type's standard metrics, state and timestamp.
nlohmann::ordered_json mqtt_config(const std::vector<machine_spec>& machines, const mqtt_options& o);

// Publishes until SIGINT or SIGTERM (which the caller has blocked in every
// thread) arrives; returns the exit code: 0 stopped by a signal, 1 the
// client could not be set up.
int publish(const std::vector<machine_spec>& machines, const mqtt_options& o);

} // namespace edgemes::sim
