// actors/pushed: one actor per machine whose data is pushed (MQTT), and the
// router that hands it what its broker connection receives.
//
// The actor owns the machine's decoder (adapters::json_message) and status.
// It never asks: messages arrive in its mailbox as the broker delivers them,
// and it judges staleness itself. Each message becomes one report to the
// writer, exactly like a poll of a polled machine (actors/report.hpp): its
// samples are reserved in the ingest gauge first, and a refused reservation
// is dropped and counted there. Stamps: the payload's timestamp when it has
// one (two messages with one timestamp are one row: the writer counts the
// second as a duplicate), else the arrival time, moved on so that two
// messages that arrive in one millisecond are two rows.
//
// Connection status, a transition table:
//   any      --a message that decodes----------------------> online
//   any      --offline_after undecodable messages in a row--> offline (records OFFLINE)
//   online   --no message for stale_after_ms (broker up)----> offline (records OFFLINE)
//              last_error "no message on <topic> for N ms"
//   unknown,
//   online   --its broker connection down-------------------> offline (records OFFLINE)
//              last_error "broker unreachable: host:port: reason" (or the CONNACK refusal)
//   offline  --broker connection up again-------------------> offline, last_error
//              "connected to broker '<id>', waiting for a message on <topic>", until
//              a message comes (or stale_after_ms passes: the staleness error)
// A message that fails to decode (not JSON, larger than max_payload_bytes)
// is a failed poll: polls.failed and last_error, never a crash.
//
// The router (an adapters::mqtt_listener) runs on the broker connection's
// thread and never blocks it. What it has handed to the actors and they have
// not yet handled is bounded by the broker's max_pending_bytes (payload bytes
// plus a fixed 128 per message); a message beyond it is dropped at once and
// counted in its machine's polls.missed (and the health's missed_polls) —
// its PUBACK still goes out, so the broker will not send it again.
// Link changes and drops reach an actor as one "look at your inbox" message,
// at most one pending per actor, so a flapping broker cannot fill a mailbox.
//
// Messages (poller_actor, the same public face as a poller): stop_atom ->
// done_atom: handle what is already in the mailbox, then quit. Everything
// else is private to pushed.cpp.
#pragma once

#include "actors/ingest.hpp"
#include "actors/messages.hpp"
#include "adapters/mqtt.hpp"
#include "config/config.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace edgemes::actors {

struct pushed_settings {
  std::string ident;   // machine id, for logs
  std::string topic;   // for error texts
  std::string broker;  // broker id, for texts
  // Defaults from config/config.hpp, their one home (docs/CONFIG.md).
  int64_t stale_after_ms = config::source_config{}.stale_after_ms;
  int64_t max_payload_bytes = config::source_config{}.max_payload_bytes;
  int64_t offline_after = config::pollers_config{}.offline_after_failures;
};

struct pushed_parts {
  pushed_settings settings;
  storage::machine_binding binding;  // slots of the decoder's metrics, in order
  std::shared_ptr<const adapters::json_message> decoder;
  writer_actor writer;
  std::shared_ptr<ingest_gauge> gauge;
};

// Spawns one pushed actor per machine of one broker and returns the router
// its connection delivers to: topic index i goes to machines[i]. The actors'
// public faces are appended to `out`.
std::shared_ptr<adapters::mqtt_listener> spawn_pushed(caf::actor_system& sys,
                                                      std::vector<pushed_parts> machines,
                                                      int64_t max_pending_bytes,
                                                      std::vector<poller_actor>& out);

} // namespace edgemes::actors
