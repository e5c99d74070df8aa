// adapters/mqtt_connection: one broker connection on its own thread, with
// libmosquitto driven by hand (mosquitto_loop) so this file owns the
// connection's life: the connect deadline, the reconnect backoff and the
// reason shown to the user for each failure. See the header for the state
// table. Every libmosquitto call on a connection happens on its thread.
#include "adapters/mqtt.hpp"

#include "clock/clock.hpp"

#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace edgemes::adapters {

namespace {

constexpr int64_t kFirstBackoffMs = 500;
constexpr int kLoopTimeoutMs = 100;  // how quickly stop() is noticed

void lib_init() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// Why a libmosquitto call failed. `logged`: the last error libmosquitto
// logged (for TLS, OpenSSL's own reason, e.g. "certificate verify failed").
std::string errno_text(int rc, int err, const std::string& logged = "") {
  if (rc == MOSQ_ERR_ERRNO)
    return err != 0 ? std::strerror(err) : "system call failed";
  if (rc == MOSQ_ERR_TLS || rc == MOSQ_ERR_TLS_HANDSHAKE)
    return "TLS handshake failed" + (logged.empty() ? std::string() : " (" + logged + ")") +
           ": check ca_file (it must have signed the broker's certificate, which must name the "
           "host), cert_file and key_file";
  return mosquitto_strerror(rc);
}

} // namespace

// The state the libmosquitto callbacks see (their `obj`); lives on the
// connection's thread for one run().
struct mqtt_connection::impl {
  mqtt_connection* owner = nullptr;
  mosquitto* mosq = nullptr;
  std::unordered_map<std::string, size_t> index;  // topic -> listener index
  bool connack = false;   // a CONNACK arrived for this attempt
  int connack_rc = -1;    // its code (0 = accepted)
  bool subscribed = false;
  std::string refused;    // why the subscription failed, "" = it did not
  std::string logged;     // the last error libmosquitto logged in this attempt

  static void on_log(mosquitto*, void* obj, int level, const char* text) {
    if ((level & MOSQ_LOG_ERR) && text)
      static_cast<impl*>(obj)->logged = text;
  }

  std::string where() const {
    return owner->settings_.host + ":" + std::to_string(owner->settings_.port);
  }

  static void on_connect(mosquitto* m, void* obj, int rc) {
    auto* self = static_cast<impl*>(obj);
    self->connack = true;
    self->connack_rc = rc;
    if (rc != 0)
      return;
    std::vector<char*> topics;
    for (auto& t : self->owner->topics_)
      topics.push_back(const_cast<char*>(t.c_str()));
    if (topics.empty()) {
      self->subscribed = true;
      return;
    }
    int mid = 0;
    const int src = mosquitto_subscribe_multiple(m, &mid, static_cast<int>(topics.size()),
                                                 topics.data(), 1, 0, nullptr);
    if (src != MOSQ_ERR_SUCCESS)
      self->refused = std::string("SUBSCRIBE not sent: ") + mosquitto_strerror(src);
  }

  static void on_subscribe(mosquitto*, void* obj, int, int count, const int* granted) {
    auto* self = static_cast<impl*>(obj);
    for (int i = 0; i < count; ++i)
      if (granted[i] != 1 && granted[i] != 2) {
        const auto& topics = self->owner->topics_;
        self->refused = "the broker refused the QoS 1 subscription to '" +
                        (static_cast<size_t>(i) < topics.size() ? topics[static_cast<size_t>(i)]
                                                                : std::string("?")) +
                        "' (granted " + std::to_string(granted[i]) + "; check the broker's ACL)";
        return;
      }
    self->subscribed = true;
  }

  static void on_message(mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* self = static_cast<impl*>(obj);
    if (msg->retain) {
      self->owner->retained_.fetch_add(1);
      return;
    }
    auto it = self->index.find(msg->topic);
    if (it == self->index.end()) {
      self->owner->unrouted_.fetch_add(1);
      return;
    }
    self->owner->messages_.fetch_add(1, std::memory_order_relaxed);
    self->owner->listener_->on_message(it->second, static_cast<const char*>(msg->payload),
                                       static_cast<size_t>(std::max(0, msg->payloadlen)),
                                       clock::wall_ms());
  }
};

mqtt_connection::mqtt_connection(mqtt_broker_settings settings, std::vector<std::string> topics,
                                 std::shared_ptr<mqtt_listener> listener)
    : settings_(std::move(settings)), topics_(std::move(topics)), listener_(std::move(listener)) {}

mqtt_connection::~mqtt_connection() { stop(); }

void mqtt_connection::start() {
  if (thread_.joinable())
    return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void mqtt_connection::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

mqtt_connection::link_status mqtt_connection::status() const {
  std::lock_guard<std::mutex> lock(status_mtx_);
  link_status s = status_;
  s.messages = messages_.load(std::memory_order_relaxed);
  return s;
}

void mqtt_connection::set_link(bool up, const std::string& why) {
  std::lock_guard<std::mutex> lock(status_mtx_);
  if (up)
    ++status_.connects;
  else
    status_.last_error = why;
  if (up != status_.connected || status_.since_ms == 0)
    status_.since_ms = clock::wall_ms();
  status_.connected = up;
}

void mqtt_connection::run() {
  lib_init();
  impl st;
  st.owner = this;
  for (size_t i = 0; i < topics_.size(); ++i)
    st.index.emplace(topics_[i], i);
  const auto& s = settings_;
  const std::string where = st.where();
  auto down = [&](const std::string& why) {
    set_link(false, why);
    listener_->on_link(false, why);
  };

  st.mosq = mosquitto_new(s.client_id.c_str(), /*clean_session=*/false, &st);
  if (!st.mosq) {
    down("broker unreachable: " + where + ": cannot create an MQTT client (" +
         std::strerror(errno) + ")");
    return;
  }
  mosquitto_int_option(st.mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(st.mosq, &impl::on_connect);
  mosquitto_subscribe_callback_set(st.mosq, &impl::on_subscribe);
  mosquitto_message_callback_set(st.mosq, &impl::on_message);
  mosquitto_log_callback_set(st.mosq, &impl::on_log);
  std::string setup_error;
  if (!s.username.empty() &&
      mosquitto_username_pw_set(st.mosq, s.username.c_str(),
                                s.password.empty() ? nullptr : s.password.c_str()) != MOSQ_ERR_SUCCESS)
    setup_error = "cannot set the username";
  if (setup_error.empty() && !s.ca_file.empty()) {
    int rc = mosquitto_tls_set(st.mosq, s.ca_file.c_str(), nullptr,
                               s.cert_file.empty() ? nullptr : s.cert_file.c_str(),
                               s.key_file.empty() ? nullptr : s.key_file.c_str(), nullptr);
    if (rc != MOSQ_ERR_SUCCESS)
      setup_error = std::string("TLS setup failed: ") + mosquitto_strerror(rc);
  }
  if (!setup_error.empty()) {
    down("broker unreachable: " + where + ": " + setup_error);
    mosquitto_destroy(st.mosq);
    return;
  }

  const int64_t first_backoff_ms = std::min(kFirstBackoffMs, std::max<int64_t>(1, s.max_backoff_ms));
  int64_t backoff_ms = first_backoff_ms;
  bool first = true;
  // Sleeps up to `ms`, waking early on stop(); false when stopping.
  auto pause = [&](int64_t ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stop_ && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(ms, 50)));
    return !stop_.load();
  };
  while (!stop_) {
    st.connack = false;
    st.connack_rc = -1;
    st.subscribed = false;
    st.refused.clear();
    st.logged.clear();
    errno = 0;
    int rc = first ? mosquitto_connect_async(st.mosq, s.host.c_str(), s.port, s.keepalive_s)
                   : mosquitto_reconnect_async(st.mosq);
    int err = errno;
    first = false;
    std::string why;
    if (rc != MOSQ_ERR_SUCCESS) {
      why = "broker unreachable: " + where + ": " + errno_text(rc, err, st.logged);
    } else {
      // Connecting: until CONNACK and SUBACK, within one keepalive period.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(std::max(5, s.keepalive_s));
      bool up = false;
      while (!stop_) {
        errno = 0;
        rc = mosquitto_loop(st.mosq, kLoopTimeoutMs, 1);
        err = errno;
        if (st.connack && st.connack_rc != 0) {
          why = "broker '" + s.id + "' at " + where + " refused the connection: " +
                mosquitto_connack_string(st.connack_rc) +
                (st.connack_rc == 4 || st.connack_rc == 5
                     ? " (check username and password_file)"
                     : "");
          break;
        }
        if (!st.refused.empty()) {
          why = "broker '" + s.id + "' at " + where + ": " + st.refused;
          break;
        }
        if (rc != MOSQ_ERR_SUCCESS) {
          if (up)
            why = "broker unreachable: " + where + ": connection lost (" +
                  errno_text(rc, err, st.logged) + ")";
          else
            why = "broker unreachable: " + where + ": " + errno_text(rc, err, st.logged);
          break;
        }
        if (!up && st.subscribed) {
          up = true;
          backoff_ms = first_backoff_ms;
          set_link(true, "");
          listener_->on_link(true, "");
        }
        if (!up && std::chrono::steady_clock::now() > deadline) {
          why = "broker unreachable: " + where + ": no CONNACK within " +
                std::to_string(std::max(5, s.keepalive_s)) + " s";
          break;
        }
      }
      if (stop_) {
        // A clean DISCONNECT: the broker keeps the session and queues for it.
        mosquitto_disconnect(st.mosq);
        for (int i = 0; i < 10 && mosquitto_loop(st.mosq, 10, 1) == MOSQ_ERR_SUCCESS; ++i) {
        }
        break;
      }
      mosquitto_disconnect(st.mosq);
    }
    down(why);
    if (!pause(backoff_ms))
      break;
    backoff_ms = std::min(std::max(first_backoff_ms, s.max_backoff_ms), backoff_ms * 2);
  }
  mosquitto_destroy(st.mosq);
}

} // namespace edgemes::adapters
