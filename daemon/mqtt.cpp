// daemon/mqtt: see the header.
#include "daemon/mqtt.hpp"

#include "actors/pushed.hpp"
#include "log/log.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace edgemes::daemon {

bool mqtt_settings(const config::config& c, const config::mqtt_broker_config& b,
                   adapters::mqtt_broker_settings& out, std::string* error) {
  out.id = b.id;
  out.host = b.host;
  out.port = static_cast<int>(b.port);
  out.client_id = config::mqtt_client_id(c, b);
  out.username = b.username;
  out.ca_file = b.ca_file;
  out.cert_file = b.cert_file;
  out.key_file = b.key_file;
  out.keepalive_s = static_cast<int>(b.keepalive_s);
  out.max_backoff_ms = c.pollers.max_backoff_ms;
  if (!b.password_file.empty()) {
    std::ifstream in(b.password_file);
    if (!in) {
      *error = "broker '" + b.id + "': cannot read password_file " + b.password_file + ": " +
               std::strerror(errno);
      return false;
    }
    std::getline(in, out.password);  // the first line, without its newline
    if (!out.password.empty() && out.password.back() == '\r')
      out.password.pop_back();
  }
  return true;
}

bool start_mqtt(caf::actor_system& sys, const config::config& cfg,
                const std::vector<machine_plan>& plans,
                const std::map<std::string, storage::machine_binding>& bindings,
                const actors::writer_actor& writer, const std::shared_ptr<actors::ingest_gauge>& gauge,
                std::vector<actors::poller_actor>& actors, mqtt_running& out) {
  for (const auto& broker : cfg.mqtt.brokers) {
    std::vector<actors::pushed_parts> machines;
    std::vector<std::string> topics;
    for (const auto& plan : plans) {
      const auto& m = *plan.cfg;
      if (!plan.pushed || m.source.broker != broker.id)
        continue;
      actors::pushed_parts parts;
      parts.settings.ident = m.id;
      parts.settings.topic = m.source.topic;
      parts.settings.broker = broker.id;
      parts.settings.stale_after_ms = m.source.stale_after_ms;
      parts.settings.max_payload_bytes = m.source.max_payload_bytes;
      parts.settings.offline_after = cfg.pollers.offline_after_failures;
      parts.binding = bindings.at(m.id);
      parts.decoder = plan.pushed;
      parts.writer = writer;
      parts.gauge = gauge;
      machines.push_back(std::move(parts));
      topics.push_back(m.source.topic);
    }
    if (machines.empty())
      continue;
    adapters::mqtt_broker_settings settings;
    std::string error;
    if (!mqtt_settings(cfg, broker, settings, &error)) {
      log::error("edgemes", error);
      return false;
    }
    auto listener = actors::spawn_pushed(sys, std::move(machines), broker.max_pending_bytes, actors);
    log::info("mqtt", "broker '" + broker.id + "': connecting to " + broker.host + ":" +
                          std::to_string(broker.port) + " as client '" + settings.client_id +
                          "' for " + std::to_string(topics.size()) + " machines");
    out.connections.push_back(std::make_unique<adapters::mqtt_connection>(
        std::move(settings), std::move(topics), std::move(listener)));
    out.connections.back()->start();
  }
  return true;
}

std::vector<api::broker_status> broker_statuses(const mqtt_running& r) {
  std::vector<api::broker_status> out;
  for (const auto& c : r.connections) {
    const auto& s = c->settings();
    const auto link = c->status();
    api::broker_status b;
    b.id = s.id;
    b.host = s.host;
    b.port = s.port;
    b.connected = link.connected;
    b.since_ms = link.since_ms;
    b.connects = link.connects;
    b.messages = link.messages;
    b.unrouted = c->unrouted();
    b.retained_ignored = c->retained_ignored();
    b.last_error = link.last_error;
    out.push_back(std::move(b));
  }
  return out;
}

void stop_mqtt(mqtt_running& r) {
  for (auto& c : r.connections)
    c->stop();
  for (auto& c : r.connections) {
    const auto& s = c->settings();
    if (c->unrouted() > 0 || c->retained_ignored() > 0)
      log::info("mqtt", "broker '" + s.id + "': " + std::to_string(c->unrouted()) +
                            " messages on topics no machine has (a subscription an older config "
                            "left in the session), " +
                            std::to_string(c->retained_ignored()) + " retained replays ignored");
  }
}

} // namespace edgemes::daemon
