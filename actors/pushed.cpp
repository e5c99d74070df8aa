#include "actors/pushed.hpp"
#include "actors/report.hpp"

#include "clock/clock.hpp"
#include "log/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>

namespace edgemes::actors {

namespace {

// Memory charged per message on top of its payload (the CAF message, the
// string's header): what the router counts against max_pending_bytes.
constexpr int64_t kMessageOverhead = 128;

// What the router shares with the actors of one broker.
struct broker_shared {
  std::atomic<int64_t> pending_bytes{0};  // handed to actors, not yet handled
  std::mutex mtx;                         // guards the link fields
  uint64_t link_version = 0;              // bumped on every on_link
  bool link_up = false;
  std::string link_text;
};

// One machine's side of the router: what it could not send as a message.
struct inbox {
  std::atomic<int64_t> dropped{0};     // messages dropped at the router, not yet counted
  std::atomic<bool> attention{false};  // a look_atom is on its way
};

// A message handed over by the router. `size` is the payload's size on the
// wire; an oversized payload is not copied (`payload` empty, `oversized`).
struct incoming {
  std::string payload;
  int64_t arrival_ms = 0;
  int64_t size = 0;
  int64_t charge = 0;  // bytes counted in broker_shared::pending_bytes
  bool oversized = false;
};

using msg_atom = caf::atom_constant<caf::atom("mqttmsg")>;
using look_atom = caf::atom_constant<caf::atom("look")>;    // link changed or drops
using stale_atom = caf::atom_constant<caf::atom("stale")>;  // staleness timer

using pushed_impl_actor = poller_actor::extend<caf::reacts_to<msg_atom, incoming>,
                                               caf::reacts_to<look_atom>,
                                               caf::reacts_to<stale_atom>>;

} // namespace
} // namespace edgemes::actors

// Local-only: it never leaves this process (the router hands it to an actor).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgemes::actors::incoming)

namespace edgemes::actors {

namespace {

using std::chrono::steady_clock;

struct pushed_state {
  pushed_parts parts;
  std::shared_ptr<broker_shared> shared;
  std::shared_ptr<inbox> box;
  storage::status_row status;
  int value_slots = 0;
  int64_t failures = 0;        // undecodable messages in a row
  bool broker_up = false;
  uint64_t link_version = 0;   // of the link state last applied
  steady_clock::time_point heard;  // last message, or the broker coming up, or the start
  int64_t last_stamp_ms = std::numeric_limits<int64_t>::min();
  int64_t last_arrival_ms = std::numeric_limits<int64_t>::min();

  // An arrival-time stamp: strictly after the previous one (two messages in a
  // millisecond are two rows), unless the wall clock stepped back by over a
  // second: then the clock's own time again.
  int64_t arrival_stamp(int64_t arrival_ms) {
    int64_t ts = arrival_ms;
    if (arrival_ms >= last_arrival_ms - 1000 && ts <= last_stamp_ms)
      ts = last_stamp_ms + 1;
    last_arrival_ms = arrival_ms;
    last_stamp_ms = ts;
    return ts;
  }

  bool unreported = false;      // the status changed since the last report

  void report(poll_report&& r) {
    r.status = status;
    unreported = false;
    send_report(*parts.gauge, parts.writer, std::move(r));
  }

  void report_if_changed() {
    if (unreported)
      report(poll_report{});
  }

  // Turns the machine offline with `why`; records OFFLINE once per spell.
  void go_offline(const std::string& why) {
    if (status.status == "offline" && status.last_error == why)
      return;
    poll_report r;
    if (status.status != "offline") {
      log::warn("mqtt", parts.settings.ident + " is offline: " + why);
      status.status = "offline";
      r.has_state = true;
      r.state = {parts.binding.machine_id, clock::wall_ms(), "OFFLINE"};
    }
    status.last_error = why;
    report(std::move(r));
  }

  // Drops the router counted since the last look, as missed polls.
  void take_drops() {
    const int64_t n = box->dropped.exchange(0);
    if (n > 0) {
      status.polls_missed += n;
      parts.gauge->record_missed(n);
      unreported = true;
    }
  }

  void handle(incoming& m) {
    shared->pending_bytes.fetch_sub(m.charge);
    take_drops();
    heard = steady_clock::now();
    const auto& s = parts.settings;
    adapters::reading reading;
    if (m.oversized)
      reading.error = "payload of " + std::to_string(m.size) + " bytes is larger than " +
                      "max_payload_bytes (" + std::to_string(s.max_payload_bytes) + ")";
    else
      reading = parts.decoder->decode(m.payload);
    status.last_poll_ms = m.arrival_ms;
    poll_report r;
    if (reading.ok) {
      failures = 0;
      if (record_ok(status, m.arrival_ms, reading))
        log::info("mqtt", s.ident + " is online again (message on " + s.topic + ")");
      const int64_t ts = reading.taken_ms != 0 ? reading.taken_ms : arrival_stamp(m.arrival_ms);
      put_reading(r, parts.binding, value_slots, ts, reading);
    } else {
      ++failures;
      ++status.polls_failed;
      status.last_error = "message on " + s.topic + ": " + reading.error;
      if (failures == s.offline_after && status.status != "offline") {
        log::warn("mqtt", s.ident + " is offline after " + std::to_string(failures) +
                              " undecodable messages: " + reading.error);
        status.status = "offline";
        r.has_state = true;
        r.state = {parts.binding.machine_id, m.arrival_ms, "OFFLINE"};
      }
    }
    report(std::move(r));
  }

  // The broker's link state, if it changed since last applied.
  void look() {
    box->attention = false;
    take_drops();
    bool up;
    std::string text;
    {
      std::lock_guard<std::mutex> lock(shared->mtx);
      if (shared->link_version == link_version)
        return report_if_changed();
      link_version = shared->link_version;
      up = shared->link_up;
      text = shared->link_text;
    }
    broker_up = up;
    if (!up) {
      go_offline(text);
    } else {
      heard = steady_clock::now();  // staleness counts from the connection
      if (status.status == "offline") {
        status.last_error = "connected to broker '" + parts.settings.broker +
                            "', waiting for a message on " + parts.settings.topic;
        unreported = true;
      }
    }
    report_if_changed();
  }

  // Staleness, judged while the broker is up.
  void check_stale() {
    take_drops();
    if (broker_up) {
      const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(
                              steady_clock::now() - heard).count();
      if (silent >= parts.settings.stale_after_ms)
        go_offline("no message on " + parts.settings.topic + " for " + std::to_string(silent) +
                   " ms");
    }
    report_if_changed();
  }

  // Delay until the next staleness check: when the machine would turn stale.
  std::chrono::milliseconds next_check() const {
    const auto due = heard + std::chrono::milliseconds(parts.settings.stale_after_ms);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - steady_clock::now());
    return left.count() > 0 ? left + std::chrono::milliseconds(1)
                            : std::chrono::milliseconds(parts.settings.stale_after_ms);
  }
};

using pushed_self = pushed_impl_actor::stateful_pointer<pushed_state>;

struct pushed_init {
  pushed_parts parts;
  std::shared_ptr<broker_shared> shared;
  std::shared_ptr<inbox> box;
};

pushed_impl_actor::behavior_type pushed_impl(pushed_self self, std::shared_ptr<pushed_init> init) {
  auto& st = self->state;
  st.parts = std::move(init->parts);
  st.shared = std::move(init->shared);
  st.box = std::move(init->box);
  st.status.machine_id = st.parts.binding.machine_id;
  st.status.status = "unknown";
  for (int slot : st.parts.binding.slots)
    st.value_slots = std::max(st.value_slots, slot + 1);
  st.heard = steady_clock::now();
  self->delayed_send(self, st.next_check(), stale_atom::value);
  return {
    [self](msg_atom, incoming& m) { self->state.handle(m); },
    [self](look_atom) { self->state.look(); },
    [self](stale_atom) {
      auto& st = self->state;
      st.check_stale();
      self->delayed_send(self, st.next_check(), stale_atom::value);
    },
    [self](stop_atom) -> caf::result<done_atom> {
      // Everything the router handed over before this is handled: a mailbox
      // is processed in order.
      self->quit();
      return done_atom::value;
    },
  };
}

// The broker connection's side: topic index -> actor, with the byte bound.
class router final : public adapters::mqtt_listener {
public:
  struct route {
    pushed_impl_actor actor;
    std::shared_ptr<inbox> box;
    int64_t max_payload_bytes;
    std::string ident;
  };

  router(std::vector<route> routes, std::shared_ptr<broker_shared> shared, int64_t max_pending,
         std::string broker)
      : routes_(std::move(routes)), shared_(std::move(shared)), max_pending_(max_pending),
        broker_(std::move(broker)) {}

  void on_message(size_t index, const char* payload, size_t size, int64_t arrival_ms) override {
    if (index >= routes_.size())
      return;
    auto& r = routes_[index];
    incoming m;
    m.arrival_ms = arrival_ms;
    m.size = static_cast<int64_t>(size);
    m.oversized = m.size > r.max_payload_bytes;
    m.charge = kMessageOverhead + (m.oversized ? 0 : m.size);
    if (shared_->pending_bytes.fetch_add(m.charge) + m.charge > max_pending_) {
      shared_->pending_bytes.fetch_sub(m.charge);
      r.box->dropped.fetch_add(1);
      if (dropping_++ == 0)
        log::warn("mqtt", "broker '" + broker_ + "': machines fall behind by more than " +
                              "max_pending_bytes; dropping messages (counted in each machine's "
                              "polls.missed)");
      attention(r);
      return;
    }
    dropping_ = 0;
    if (!m.oversized)
      m.payload.assign(payload, size);
    caf::anon_send(r.actor, msg_atom::value, std::move(m));
  }

  void on_link(bool up, const std::string& text) override {
    {
      std::lock_guard<std::mutex> lock(shared_->mtx);
      ++shared_->link_version;
      shared_->link_up = up;
      shared_->link_text = text;
    }
    if (up != last_up_ || text != last_text_) {
      if (up)
        log::info("mqtt", "broker '" + broker_ + "': connected, subscribed to " +
                              std::to_string(routes_.size()) + " topics");
      else
        log::warn("mqtt", text + (last_up_ ? "" : " (retrying with backoff)"));
    }
    last_up_ = up;
    last_text_ = text;
    for (auto& r : routes_)
      attention(r);
  }

private:
  static void attention(route& r) {
    if (!r.box->attention.exchange(true))
      caf::anon_send(r.actor, look_atom::value);
  }

  std::vector<route> routes_;
  std::shared_ptr<broker_shared> shared_;
  const int64_t max_pending_;
  const std::string broker_;
  // Only the connection's thread touches these.
  int64_t dropping_ = 0;
  bool last_up_ = false;
  std::string last_text_;
};

} // namespace

std::shared_ptr<adapters::mqtt_listener> spawn_pushed(caf::actor_system& sys,
                                                      std::vector<pushed_parts> machines,
                                                      int64_t max_pending_bytes,
                                                      std::vector<poller_actor>& out) {
  auto shared = std::make_shared<broker_shared>();
  std::vector<router::route> routes;
  std::string broker = machines.empty() ? std::string() : machines.front().settings.broker;
  for (auto& parts : machines) {
    auto init = std::make_shared<pushed_init>();
    init->box = std::make_shared<inbox>();
    init->shared = shared;
    const auto max_payload = parts.settings.max_payload_bytes;
    const auto ident = parts.settings.ident;
    init->parts = std::move(parts);
    auto box = init->box;
    pushed_impl_actor actor = sys.spawn(pushed_impl, std::move(init));
    routes.push_back({actor, std::move(box), max_payload, ident});
    out.push_back(actor);
  }
  return std::make_shared<router>(std::move(routes), std::move(shared), max_pending_bytes,
                                  std::move(broker));
}

} // namespace edgemes::actors
