// The actors' messages through CAF 0.17's binary serializer: every type that
// actors::register_message_types registers comes back with every field equal
// (each set to a non-default value), alone and inside a caf::message — the
// form caf_io ships, looked up by its registered name on the other side.
#include "actors/messages.hpp"

#include <caf/all.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace edgemes;

namespace {

caf::actor_system_config& registered_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", static_cast<size_t>(1));
    actors::register_message_types(c);
    return c;
  }();
  return cfg;
}

// Every double a poll may carry, missing values (NaN) and the special values
// CAF's own double packing cannot carry (infinities, -0.0) included.
std::vector<double> awkward_values() {
  using lim = std::numeric_limits<double>;
  return {21.5, lim::quiet_NaN(), -0.0, lim::infinity(), -lim::infinity(),
          lim::denorm_min(), lim::max(), lim::lowest(), 1.0 / 3.0, -1e-300};
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

storage::poll_row sample_poll() {
  return {7, 1'700'000'000'123, awkward_values()};
}

storage::state_row sample_state() {
  return {7, 1'700'000'000'124, "RUN"};
}

storage::status_row sample_status() {
  storage::status_row s;
  s.machine_id = 7;
  s.status = "offline";
  s.last_poll_ms = 1'700'000'000'125;
  s.last_ok_ms = 1'699'999'999'000;
  s.last_error = "timeout after 1000 ms";
  s.polls_ok = 123456789012;
  s.polls_failed = 42;
  s.poll_problems = -3;  // signed fields keep their sign
  s.polls_missed = 9;
  return s;
}

actors::poll_report sample_report() {
  actors::poll_report r;
  r.poll = sample_poll();
  r.has_state = true;
  r.state = sample_state();
  r.status = sample_status();
  r.samples = 8;
  return r;
}

void check_equal(const storage::poll_row& a, const storage::poll_row& b) {
  CHECK(a.machine_id == b.machine_id);
  CHECK(a.ts_ms == b.ts_ms);
  CHECK(same_bits(a.values, b.values));
}

void check_equal(const storage::state_row& a, const storage::state_row& b) {
  CHECK(a.machine_id == b.machine_id);
  CHECK(a.ts_ms == b.ts_ms);
  CHECK(a.state == b.state);
}

void check_equal(const storage::status_row& a, const storage::status_row& b) {
  CHECK(a.machine_id == b.machine_id);
  CHECK(a.status == b.status);
  CHECK(a.last_poll_ms == b.last_poll_ms);
  CHECK(a.last_ok_ms == b.last_ok_ms);
  CHECK(a.last_error == b.last_error);
  CHECK(a.polls_ok == b.polls_ok);
  CHECK(a.polls_failed == b.polls_failed);
  CHECK(a.poll_problems == b.poll_problems);
  CHECK(a.polls_missed == b.polls_missed);
}

void check_equal(const actors::poll_report& a, const actors::poll_report& b) {
  check_equal(a.poll, b.poll);
  CHECK(a.has_state == b.has_state);
  check_equal(a.state, b.state);
  check_equal(a.status, b.status);
  CHECK(a.samples == b.samples);
}

void check_equal(const actors::writer_totals& a, const actors::writer_totals& b) {
  CHECK(a.rows == b.rows);
  CHECK(a.samples == b.samples);
  CHECK(a.lost_samples == b.lost_samples);
  CHECK(a.compactions == b.compactions);
}

void check_equal(const actors::query_reply& a, const actors::query_reply& b) {
  CHECK(a.status == b.status);
  CHECK(a.body == b.body);
}

// The value alone, as an actor's state or a message element is written.
template <class T>
T round_trip(caf::actor_system& sys, T in) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = sink(in);
  REQUIRE_FALSE(err);
  T out;
  caf::binary_deserializer source{sys, buf};
  err = source(out);
  REQUIRE_FALSE(err);
  CHECK(source.remaining() == 0);
  return out;
}

// The value inside a caf::message: written with its registered name, rebuilt
// on the reading side from that name (what a remote node does).
template <class T>
T message_round_trip(caf::actor_system& sys, const T& in) {
  auto msg = caf::make_message(in);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = sink(msg);
  REQUIRE_FALSE(err);
  caf::message out;
  caf::binary_deserializer source{sys, buf};
  err = source(out);
  REQUIRE_FALSE(err);
  REQUIRE(out.match_elements<T>());
  return out.get_as<T>(0);
}

template <class T>
void check_round_trips(caf::actor_system& sys, const T& in) {
  INFO(caf::deep_to_string(in));
  check_equal(round_trip(sys, in), in);
  check_equal(message_round_trip(sys, in), in);
}

} // namespace

TEST_CASE("a poll_report survives CAF's binary serializer field by field, missing (NaN) and "
          "infinite values included",
          "[actors][messages]") {
  caf::actor_system sys{registered_config()};
  auto in = sample_report();
  check_round_trips(sys, in);
  auto out = round_trip(sys, in);
  CHECK(std::isnan(out.poll.values[1]));
  CHECK(std::signbit(out.poll.values[2]));
  CHECK(out.poll.values[3] == std::numeric_limits<double>::infinity());
}

TEST_CASE("a poll_report of a failed poll (no values, no state) survives the round trip",
          "[actors][messages]") {
  caf::actor_system sys{registered_config()};
  actors::poll_report in;
  in.poll.machine_id = 3;
  in.poll.ts_ms = 5;
  in.status = sample_status();
  check_round_trips(sys, in);
}

TEST_CASE("writer_totals and query_reply survive CAF's binary serializer field by field",
          "[actors][messages]") {
  caf::actor_system sys{registered_config()};
  check_round_trips(sys, actors::writer_totals{1'000'000'007, 20'000'000'014, 17, 5});
  check_round_trips(sys, actors::query_reply{503, R"({"error":{"code":"timeout"}})"});
}

TEST_CASE("the storage rows a report carries survive CAF's binary serializer on their own",
          "[actors][messages]") {
  caf::actor_system sys{registered_config()};
  check_round_trips(sys, sample_poll());
  check_round_trips(sys, sample_state());
  check_round_trips(sys, sample_status());
}

TEST_CASE("each registered type is known to the actor system by its wire name",
          "[actors][messages]") {
  caf::actor_system sys{registered_config()};
  for (const char* name :
       {"edgemes::storage::poll_row", "edgemes::storage::state_row",
        "edgemes::storage::status_row", "edgemes::actors::poll_report",
        "edgemes::actors::writer_totals", "edgemes::actors::query_reply",
        "std::vector<edgemes::storage::poll_row>"}) {
    INFO(name);
    CHECK(sys.types().make_value(std::string{name}) != nullptr);
  }
}

TEST_CASE("printing a poll_report shows its values as numbers, not as bit patterns",
          "[actors][messages]") {
  auto text = caf::deep_to_string(sample_report());
  CHECK(text.find("21.5") != std::string::npos);
  CHECK(text.find("timeout after 1000 ms") != std::string::npos);
}
