// config/validate_mqtt: the `mqtt` section (brokers) and the rules of a
// machine whose source is `mqtt` (docs/CONFIG.md, "MQTT"). Read before the
// lines, so a machine's broker id is judged against the declared brokers.
#include "config/validate.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edgemes::config::detail {

namespace {

constexpr int64_t kMaxPayload = 268435455;  // MQTT's largest packet
const std::vector<std::string> kMqttSourceKeys{"broker", "topic", "stale_after_ms", "timestamp",
                                               "max_payload_bytes"};

// Why `path` cannot be read by this process, or "".
std::string unreadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return "cannot read " + path + ": " + std::strerror(errno);
  std::fclose(f);
  return "";
}

// A file key: when present it must name a file this process can read.
void readable_file(object_reader& r, const std::string& key, std::string& out) {
  std::string file;
  if (!r.text(key, file))
    return;
  if (file.empty())
    r.fail(r.at(key), "expected a file name, got an empty string");
  else if (std::string why = unreadable(file); !why.empty())
    r.fail(r.at(key), why);
  else
    out = file;
}

} // namespace

void validator::read_mqtt(object_reader r, mqtt_config& m) {
  const json* brokers = r.array("brokers");
  if (!brokers)
    return;
  for (size_t i = 0; i < brokers->size(); ++i)
    read_broker((*brokers)[i], r.at("brokers") + "/" + std::to_string(i), m.brokers);
}

void validator::read_broker(const json& j, const std::string& path,
                            std::vector<mqtt_broker_config>& out) {
  if (!j.is_object()) {
    problems_.push_back({path, "expected an object, got " + describe(j)});
    return;
  }
  object_reader r(j, path, problems_,
                  {"id", "host", "port", "client_id", "username", "password_file", "ca_file",
                   "cert_file", "key_file", "keepalive_s", "max_pending_bytes"});
  mqtt_broker_config b;
  r.ident(b.id);
  remember("broker", b.id, path, r.at("id"), broker_ids_);
  std::string host;
  if (r.text("host", host, true)) {
    if (host.empty() || host.find_first_of(" \t\r\n/") != std::string::npos)
      r.fail(r.at("host"), "expected a host name or IP address (no scheme, no port), got '" +
                               host + "'");
    else
      b.host = host;
  }
  r.integer("port", b.port, 1, 65535);
  std::string client_id;
  if (r.text("client_id", client_id)) {
    if (client_id.empty() || client_id.size() > 256)
      r.fail(r.at("client_id"), "must be 1 to 256 characters (or absent: derived from site and id)");
    else if (auto [it, fresh] = client_ids_.emplace(client_id, path); !fresh)
      r.fail(r.at("client_id"), "client_id '" + client_id + "' is also the broker's at " +
                                    it->second +
                                    ": a broker disconnects one of two clients with one id");
    else
      b.client_id = client_id;
  }
  r.text("username", b.username);
  readable_file(r, "password_file", b.password_file);
  if (r.find("password_file") && b.username.empty())
    r.fail(r.at("password_file"), "a password needs a username (add \"username\")");
  readable_file(r, "ca_file", b.ca_file);
  readable_file(r, "cert_file", b.cert_file);
  readable_file(r, "key_file", b.key_file);
  if ((r.find("cert_file") != nullptr) != (r.find("key_file") != nullptr))
    r.fail(r.at(r.find("cert_file") ? "key_file" : "cert_file"),
           "a client certificate needs both cert_file and key_file");
  if ((r.find("cert_file") || r.find("key_file")) && !r.find("ca_file"))
    r.fail(r.at("ca_file"), "TLS needs ca_file (the CA that signed the broker's certificate)");
  r.integer("keepalive_s", b.keepalive_s, 5, 65535);
  r.integer("max_pending_bytes", b.max_pending_bytes, 65536, 1LL << 30);
  out.push_back(std::move(b));
}

// Reads the mqtt keys of a source; present on another adapter, each is a problem.
void validator::read_mqtt_source(object_reader& r, source_config& s) {
  if (s.adapter != "mqtt") {
    if (s.adapter.empty())
      return;  // the adapter itself is reported
    for (const auto& key : kMqttSourceKeys)
      if (r.find(key))
        r.fail(r.at(key), key + " applies only to the mqtt adapter");
    return;
  }
  r.text("broker", s.broker, true);
  std::string topic;
  if (r.text("topic", topic, true)) {
    if (topic.empty())
      r.fail(r.at("topic"), "expected a topic, got an empty string");
    else if (topic.find_first_of("+#") != std::string::npos)
      r.fail(r.at("topic"), "topic '" + topic +
                                "' has a wildcard (+ or #): each machine subscribes to its own "
                                "exact topic, so that every message belongs to one machine");
    else if (topic.find('\0') != std::string::npos || topic.size() > 65535)
      r.fail(r.at("topic"), "a topic is at most 65535 bytes without NUL characters");
    else
      s.topic = topic;
  }
  r.integer("stale_after_ms", s.stale_after_ms, 100, kDayMs);
  std::string timestamp;
  if (r.text("timestamp", timestamp)) {
    if (!timestamp.empty() && timestamp[0] != '/')
      r.fail(r.at("timestamp"), "invalid JSON pointer '" + timestamp +
                                    "': must start with '/' (e.g. \"/ts_ms\")");
    else if (!valid_json_pointer(timestamp))
      r.fail(r.at("timestamp"), "invalid JSON pointer '" + timestamp +
                                    "': '~' must be followed by 0 or 1 (~0 is '~', ~1 is '/')");
    else
      s.timestamp = timestamp;
  }
  r.integer("max_payload_bytes", s.max_payload_bytes, 16, kMaxPayload);
}

void validator::check_mqtt_machine(object_reader& r, bool has_url,
                                   bool has_metrics_or_state, const source_config& s) {
  const std::string source = r.at("source");
  if (has_url)
    r.fail(source + "/url", "the mqtt adapter takes no url (it subscribes to `topic` on `broker`)");
  if (!s.broker.empty() && !broker_ids_.count(s.broker)) {
    std::vector<std::string> ids;
    for (const auto& [id, where] : broker_ids_)
      ids.push_back(id);
    r.fail(source + "/broker",
           "unknown broker '" + s.broker + "' (" +
               (ids.empty() ? std::string("no brokers declared: add one to /mqtt/brokers")
                            : "declared in /mqtt/brokers: " + join(ids, ", ")) +
               ")");
  }
  if (!s.broker.empty() && !s.topic.empty()) {
    auto [it, fresh] = topics_.emplace(std::make_pair(s.broker, s.topic), source + "/topic");
    if (!fresh)
      r.fail(source + "/topic", "topic '" + s.topic + "' on broker '" + s.broker +
                                    "' is already another machine's (" + it->second +
                                    "): each message must belong to one machine");
  }
  if (!has_metrics_or_state)
    r.fail(r.path(), "an mqtt machine needs at least one metric or a state");
}

} // namespace edgemes::config::detail
