// adapters/mqtt: machines that publish over MQTT — the pushed sources.
//
// Two pieces, used together by the daemon (docs/ADAPTERS.md, "MQTT"):
//
// json_message turns one payload into a reading, as a polled source's poll()
// would: the configured metrics and state through the extractor, and the
// time the values were taken from the payload's timestamp pointer (epoch
// milliseconds as a number, or an ISO-8601 text, see parse_timestamp) — else
// the arrival time. Runs in the machine's actor; never throws.
//
// mqtt_connection is the one connection to one broker, shared by all the
// machines that name it. Its network loop runs on its own thread (never on
// a CAF scheduler thread) and hands every message to a listener, which must
// not block: the listener decides what is queued and what is dropped (the
// actors layer bounds it, actors/pushed.hpp). The session is persistent —
// a fixed client id, clean session off, QoS 1 subscriptions — so the broker
// keeps what is published while edgemes is down and delivers it afterwards.
// libmosquitto acknowledges a QoS 1 message (PUBACK) when the listener's
// on_message returns, so a message is the broker's until the listener has
// taken it, and edgemes's from then on.
//
// Connection life (each transition calls listener.on_link):
//   stopped    --start()---------------------------> connecting
//   connecting --CONNACK accepted, subscribed-------> up           on_link(true, "")
//   connecting --refused / no answer / CONNACK error-> waiting     on_link(false, why)
//   up         --connection lost--------------------> waiting      on_link(false, why)
//   waiting    --backoff elapsed--------------------> connecting
// The backoff starts at 500 ms and doubles per failed attempt up to
// max_backoff_ms; an accepted CONNACK resets it. stop() disconnects cleanly
// (the session, and what the broker queues for it, stays) and joins the
// thread.
//
// Retained messages (the RETAIN flag set by the broker) are ignored and
// counted: in MQTT 3.1.1 only the broker's replay of a topic's last retained
// publish at subscribe time carries it; every publish made while the session
// exists reaches us without it (queued while we were away, or live).
#pragma once

#include "adapters/adapter.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace edgemes::adapters {

// Epoch milliseconds of an ISO-8601 date-time with a zone ("2024-05-01T12:00:00Z",
// "2024-05-01T14:00:00.250+02:00", a space instead of 'T' allowed; fractions
// beyond milliseconds are truncated), or nothing when `text` is not one.
std::optional<int64_t> parse_timestamp(std::string_view text);

// One machine's payloads: JSON documents read with `metrics`, a timestamp
// pointer ("" = none: the arrival time stamps the values).
class json_message {
public:
  json_message(extractor metrics, std::string timestamp_pointer);

  // A failed reading for a payload that is not JSON; else the metrics and
  // state, and taken_ms from the timestamp (0 when there is no timestamp
  // pointer; a missing or unreadable timestamp is a problem, and 0 too: the
  // machine's actor then stamps the values with their arrival time).
  reading decode(std::string_view payload) const;

private:
  extractor metrics_;
  std::optional<extractor::path> timestamp_;
  std::string timestamp_text_;
};

struct mqtt_broker_settings {
  std::string id;         // the config's broker id, in every error text
  std::string host;
  int port = 1883;
  std::string client_id;  // fixed across restarts: the session's name at the broker
  std::string username;   // "" = none
  std::string password;   // with username
  std::string ca_file;    // "" = plain TCP; else TLS, verifying the broker against it
  std::string cert_file;  // client certificate (with key_file), optional
  std::string key_file;
  int keepalive_s = 30;
  int64_t max_backoff_ms = 30000;  // cap of the reconnect backoff
};

// Receives what a connection delivers. Called on the connection's thread, one
// call at a time; must not block (it holds the connection's network loop).
class mqtt_listener {
public:
  virtual ~mqtt_listener() = default;
  // A message on topics[index]; `payload` is valid only during the call.
  virtual void on_message(size_t index, const char* payload, size_t size, int64_t arrival_ms) = 0;
  // The connection is up (`text` empty) or down, with why ("broker unreachable: ...").
  virtual void on_link(bool up, const std::string& text) = 0;
};

class mqtt_connection {
public:
  // Subscribes to `topics` (exact names, no wildcards) with QoS 1.
  mqtt_connection(mqtt_broker_settings settings, std::vector<std::string> topics,
                  std::shared_ptr<mqtt_listener> listener);
  ~mqtt_connection();  // stop()
  mqtt_connection(const mqtt_connection&) = delete;
  mqtt_connection& operator=(const mqtt_connection&) = delete;

  // Starts the network thread; it connects and keeps reconnecting until stop().
  void start();
  // Disconnects and joins the thread. Idempotent.
  void stop();

  const mqtt_broker_settings& settings() const { return settings_; }

  // The link as /health shows it. Any thread.
  struct link_status {
    bool connected = false;   // subscribed and receiving
    int64_t since_ms = 0;     // wall ms of the last change (0 = never connected nor failed)
    int64_t connects = 0;     // times the link came up
    int64_t messages = 0;     // messages handed to the listener
    std::string last_error;   // why it last went down ("" = never)
  };
  link_status status() const;
  // Messages received on no configured topic (a subscription left in the
  // session by an older config), and retained replays ignored.
  int64_t unrouted() const { return unrouted_.load(); }
  int64_t retained_ignored() const { return retained_.load(); }

  struct impl;  // the libmosquitto side, in mqtt_connection.cpp

private:
  void run();

  mqtt_broker_settings settings_;
  std::vector<std::string> topics_;
  std::shared_ptr<mqtt_listener> listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> unrouted_{0};
  std::atomic<int64_t> retained_{0};
  std::atomic<int64_t> messages_{0};
  mutable std::mutex status_mtx_;
  link_status status_;  // guarded by status_mtx_ (messages live in messages_)
  void set_link(bool up, const std::string& why);
  std::thread thread_;
};

} // namespace edgemes::adapters
