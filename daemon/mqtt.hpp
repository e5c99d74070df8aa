// daemon/mqtt: the MQTT side of `run` — one connection per broker that some
// machine names (a declared broker no machine uses is not connected), and
// each of its machines' pushed actors (actors/pushed). Started after the
// writer; stopped first on shutdown, so every message the broker got a PUBACK
// for is in an actor's mailbox before the actors are asked to stop.
#pragma once

#include "daemon/sources.hpp"

#include "actors/ingest.hpp"
#include "actors/messages.hpp"
#include "adapters/mqtt.hpp"
#include "api/server.hpp"
#include "config/config.hpp"
#include "storage/writer.hpp"

#include <caf/fwd.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace edgemes::daemon {

struct mqtt_running {
  std::vector<std::unique_ptr<adapters::mqtt_connection>> connections;
};

// The connection settings of broker `b`; reads its password file. Returns
// false and sets *error when the file cannot be read.
bool mqtt_settings(const config::config& c, const config::mqtt_broker_config& b,
                   adapters::mqtt_broker_settings& out, std::string* error);

// Spawns the pushed actors of every plan with a `pushed` decoder (their faces
// appended to `actors`) and starts their brokers' connections into `out`.
// Returns false (logged) when a broker's settings cannot be made.
bool start_mqtt(caf::actor_system& sys, const config::config& cfg,
                const std::vector<machine_plan>& plans,
                const std::map<std::string, storage::machine_binding>& bindings,
                const actors::writer_actor& writer, const std::shared_ptr<actors::ingest_gauge>& gauge,
                std::vector<actors::poller_actor>& actors, mqtt_running& out);

// Each connection's link as /health shows it.
std::vector<api::broker_status> broker_statuses(const mqtt_running& r);

// Disconnects every broker cleanly and joins the connection threads.
void stop_mqtt(mqtt_running& r);

} // namespace edgemes::daemon
