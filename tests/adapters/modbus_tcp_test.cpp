// Tests for adapters/modbus_tcp.cpp against real servers on 127.0.0.1: a
// pymodbus device (tests/support/pymodbus_server.py) laying out every type in
// every order with its own payload builder, a port nobody listens on, a
// listener that never answers, and one that answers garbage.
#include "adapters/modbus_tcp.hpp"
#include "tests/support/modbus_device.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

using namespace edgemes;
namespace mb = adapters::modbus;
using test::device_point;

namespace {

adapters::modbus_tcp_settings settings_for(int port, int max_per_read = 125, int64_t timeout_ms = 2000) {
  return {"127.0.0.1", port, 1, timeout_ms, max_per_read, 8};
}

mb::point point_of(const device_point& d, double scale = 1, double offset = 0) {
  mb::point p;
  p.tbl = *mb::parse_table(d.table);
  p.address = static_cast<uint16_t>(d.address);
  p.type = *mb::parse_type(d.type);
  p.word_order = *mb::parse_order(d.word_order);
  p.byte_order = *mb::parse_order(d.byte_order);
  p.scale = scale;
  p.offset = offset;
  return p;
}

// Every type, both word orders, both byte orders, all four tables.
std::vector<device_point> every_type() {
  return {{"holding", 0, "int16", -12345},
          {"holding", 1, "uint16", 54321, "big", "little"},
          {"holding", 2, "int32", -123456789},
          {"holding", 4, "int32", -123456789, "little"},
          {"holding", 6, "uint32", 4000000000.0},
          {"holding", 8, "uint32", 4000000000.0, "little", "little"},
          {"holding", 10, "int64", -1234567890123.0},
          {"holding", 14, "int64", 1234567890123456.0, "little"},
          {"holding", 18, "float32", 123.456},
          {"holding", 20, "float32", -0.15625, "little"},
          {"holding", 22, "float64", 3.141592653589793},
          {"holding", 26, "float64", -2.718281828459045, "little", "little"},
          {"input", 0, "uint16", 777},
          {"input", 1, "int16", -400},
          {"coil", 0, "bool", 1},
          {"coil", 5, "bool", 0},
          {"discrete", 2, "bool", 1}};
}

// What the device's value is once it went through its type: a float32 is
// the nearest float.
double as_stored(const device_point& d) {
  return d.type == "float32" ? static_cast<double>(static_cast<float>(d.value)) : d.value;
}

std::unique_ptr<adapters::source> source_for(const std::vector<device_point>& points,
                                             const adapters::modbus_tcp_settings& s,
                                             std::optional<adapters::modbus_state> state = {}) {
  std::vector<std::pair<std::string, mb::point>> metrics;
  for (size_t i = 0; i < points.size(); ++i)
    metrics.emplace_back("m" + std::to_string(i), point_of(points[i]));
  std::string error;
  auto src = adapters::make_modbus_tcp(s, metrics, std::move(state), &error);
  INFO(error);
  REQUIRE(src);
  return src;
}

// A listener on a free port that never accepts: the kernel completes the
// handshake, the request is sent, and no reply ever comes.
struct silent_listener {
  int fd = -1;
  int port = 0;
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    port = ntohs(a.sin_port);
  }
  ~silent_listener() { ::close(fd); }
};

// Accepts connections and answers each request with `reply`, then closes.
struct garbage_server {
  silent_listener listener;
  std::string reply;
  std::atomic<bool> stop{false};
  std::thread thread;
  explicit garbage_server(std::string r) : reply(std::move(r)) {
    thread = std::thread([this] {
      while (!stop) {
        int c = ::accept(listener.fd, nullptr, nullptr);
        if (c < 0)
          return;
        char request[12];
        if (::recv(c, request, sizeof request, MSG_WAITALL) == 12)
          ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~garbage_server() {
    stop = true;
    ::shutdown(listener.fd, SHUT_RDWR);
    thread.join();
  }
};

} // namespace

TEST_CASE("modbus_tcp reads every type in every word and byte order exactly as pymodbus laid it out",
          "[modbus][pymodbus]") {
  test::temp_dir dir;
  const auto points = every_type();
  test::modbus_device device(dir, points);
  auto src = source_for(points, settings_for(device.port()));
  CHECK(src->blocking());
  const auto r = src->poll();
  INFO(r.error);
  REQUIRE(r.ok);
  CHECK(r.problems.empty());
  REQUIRE(r.values.size() == points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    INFO(points[i].table << " " << points[i].address << " " << points[i].type << " word "
                         << points[i].word_order << " byte " << points[i].byte_order);
    CHECK(r.values[i] == as_stored(points[i]));
  }
  // 17 values in four requests: holding 0..29, input 0..1, coils 0..5, discrete 2.
  const auto reads = device.reads();
  CHECK(reads == std::vector<std::string>{"read coil 0 6", "read discrete 2 1", "read input 0 2",
                                          "read holding 0 30"});
}

TEST_CASE("modbus_tcp keeps its connection and reads fresh values at every poll", "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"holding", 7, "uint16", 4242}};
  test::modbus_device device(dir, points);
  auto src = source_for(points, settings_for(device.port()));
  for (int i = 0; i < 3; ++i) {
    const auto r = src->poll();
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.values == std::vector<double>{4242});
  }
  CHECK(device.reads().size() == 3);
}

TEST_CASE("modbus_tcp applies scale and offset", "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"input", 0, "int16", 1484}, {"input", 1, "uint16", 500}};
  test::modbus_device device(dir, points);
  std::vector<std::pair<std::string, mb::point>> metrics{{"zone_c", point_of(points[0], 0.1)},
                                                         {"flow", point_of(points[1], 2, -40)}};
  std::string error;
  auto src = adapters::make_modbus_tcp(settings_for(device.port()), metrics, {}, &error);
  REQUIRE(src);
  const auto r = src->poll();
  REQUIRE(r.ok);
  CHECK(r.values == std::vector<double>{148.4, 960});
}

TEST_CASE("an unmapped address fails the poll with the exception's name and the request's registers",
          "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"holding", 0, "uint16", 1}};
  test::modbus_device device(dir, points);
  auto src = source_for({{"holding", 0, "uint16", 1}, {"holding", 500, "int32", 0}},
                        settings_for(device.port()));
  const auto r = src->poll();
  CHECK_FALSE(r.ok);
  CHECK(r.error == "holding 500..501: Illegal data address (exception 2)");
  // The exception left the connection in step: the next poll uses it again.
  const auto again = src->poll();
  CHECK(again.error == r.error);
}

TEST_CASE("a device that reads one register at a time works with max_registers_per_read 1",
          "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"holding", 0, "uint16", 11},
                                         {"holding", 1, "float64", 2.5, "little"},
                                         {"holding", 5, "int32", -7}};
  test::modbus_device device(dir, points, /*max_per_read=*/1);

  auto grouped = source_for(points, settings_for(device.port(), 125));
  const auto refused = grouped->poll();
  CHECK_FALSE(refused.ok);
  CHECK(refused.error == "holding 0..6: Illegal data address (exception 2)");

  auto single = source_for(points, settings_for(device.port(), 1));
  const auto r = single->poll();
  INFO(r.error);
  REQUIRE(r.ok);
  CHECK(r.values == std::vector<double>{11, 2.5, -7});
  const auto reads = device.reads();
  REQUIRE(reads.size() == 7);
  for (const auto& line : reads)
    CHECK(line.substr(line.size() - 2) == " 1");
}

TEST_CASE("the state register maps codes to texts; an unknown code is 'code N' and a problem",
          "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"holding", 0, "uint16", 3}, {"holding", 1, "uint16", 7}};
  test::modbus_device device(dir, points);
  adapters::modbus_state known{point_of(points[0]), {{1, "RUN"}, {3, "IDLE"}}};
  auto src = source_for({}, settings_for(device.port()), known);
  auto r = src->poll();
  REQUIRE(r.ok);
  CHECK(r.values.empty());
  CHECK(r.state == std::optional<std::string>("IDLE"));
  CHECK(r.problems.empty());

  adapters::modbus_state unknown{point_of(points[1]), {{1, "RUN"}}};
  auto src2 = source_for({points[0]}, settings_for(device.port()), unknown);
  r = src2->poll();
  REQUIRE(r.ok);
  CHECK(r.values == std::vector<double>{3});
  CHECK(r.state == std::optional<std::string>("code 7"));
  CHECK(r.problems == std::vector<std::string>{"state: code 7 at holding 1 is not in the state map"});
}

TEST_CASE("a float register holding NaN is a missing value with a problem", "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"holding", 0, "float32", std::nan("")},
                                         {"holding", 2, "float32", 1.25}};
  test::modbus_device device(dir, points);
  auto src = source_for(points, settings_for(device.port()));
  const auto r = src->poll();
  REQUIRE(r.ok);
  REQUIRE(r.values.size() == 2);
  CHECK(std::isnan(r.values[0]));
  CHECK(r.values[1] == 1.25);
  CHECK(r.problems == std::vector<std::string>{"metric 'm0': holding 0 holds NaN, not a number"});
}

TEST_CASE("a refused connection fails fast, naming host and port", "[modbus]") {
  const int port = test::free_port();
  auto src = source_for({{"holding", 0, "uint16", 0}}, settings_for(port));
  const auto r = src->poll();
  CHECK_FALSE(r.ok);
  CHECK(r.error == "connection refused: 127.0.0.1:" + std::to_string(port));
}

TEST_CASE("a device that never answers fails with 'timeout after N ms' within the deadline",
          "[modbus]") {
  silent_listener quiet;
  auto src = source_for({{"holding", 0, "uint16", 0}}, settings_for(quiet.port, 125, 300));
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = src->poll();
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(r.ok);
  CHECK(r.error == "timeout after 300 ms");
  CHECK(took >= std::chrono::milliseconds(300));
  CHECK(took < std::chrono::seconds(5));  // the deadline holds, it is not a retry loop
}

TEST_CASE("garbage instead of a Modbus reply is an error text, never a crash or a value", "[modbus]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"HTTP/1.1 400 Bad Request\r\n\r\n", "protocol id 21584, not 0"},
      {std::string("\x00\x02\x00\x00\x00\x07\x01\x03\x04\x00\x01\x00\x02", 13), "transaction 2, expected 1"},
      {std::string("\x00\x01\x00\x00\x00\x05\x01\x03\x02\x00\x01", 11), "2 data bytes"},
      {std::string("\x00\x01\x00\x00\x01\x00\x01", 7), "length 256 outside 3..254"},
      {std::string("\x00\x01\x00\x00\x00\x03\x01\x03", 8), "closed by the device"},
  };
  for (const auto& [reply, fragment] : cases) {
    INFO(fragment);
    garbage_server server(reply);
    auto src = source_for({{"holding", 0, "uint16", 0}, {"holding", 1, "uint16", 0}},
                          settings_for(server.listener.port));
    const auto r = src->poll();
    CHECK_FALSE(r.ok);
    INFO(r.error);
    CHECK(r.error.find(fragment) != std::string::npos);
  }
}

TEST_CASE("a device that went away fails the poll, and is read again once it is back",
          "[modbus][pymodbus]") {
  test::temp_dir dir;
  const std::vector<device_point> points{{"holding", 3, "int16", -5}};
  test::modbus_device device(dir, points);
  auto src = source_for(points, settings_for(device.port()));
  REQUIRE(src->poll().ok);
  device.kill();
  const auto down = src->poll();
  CHECK_FALSE(down.ok);
  INFO(down.error);
  CHECK((down.error.find("closed by the device") != std::string::npos ||
         down.error.find("connection refused") == 0 ||
         down.error.find("lost") != std::string::npos));
  device.start();
  const auto back = src->poll();
  INFO(back.error);
  REQUIRE(back.ok);
  CHECK(back.values == std::vector<double>{-5});
}

TEST_CASE("make_modbus_tcp refuses what check-config refuses", "[modbus]") {
  std::string error;
  mb::point wide;
  wide.address = 65535;
  wide.type = mb::value_type::int32;
  CHECK_FALSE(adapters::make_modbus_tcp(settings_for(502), {{"x", wide}}, {}, &error));
  CHECK(error == "metric 'x': int32 at 65535 needs registers 65535..65536, past the last address 65535");
  mb::point a, b;
  a.type = mb::value_type::int32;
  b.address = 1;
  CHECK_FALSE(adapters::make_modbus_tcp(settings_for(502), {{"a", a}, {"b", b}}, {}, &error));
  CHECK(error == "metric 'b' overlaps the registers of metric 'a'");
  mb::point f;
  f.type = mb::value_type::float32;
  CHECK_FALSE(adapters::make_modbus_tcp(settings_for(502), {}, adapters::modbus_state{f, {}}, &error));
  CHECK(error == "state: a state code is an integer, not float32");
  CHECK_FALSE(adapters::make_modbus_tcp(settings_for(502, 126), {{"a", a}}, {}, &error));
  CHECK(error == "max_registers_per_read must be between 1 and 125, got 126");
}
