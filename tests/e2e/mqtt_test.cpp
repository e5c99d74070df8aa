// MQTT end to end: a real mosquitto broker started by each test with a
// generated config (127.0.0.1, a free port, persistence in the test's temp
// directory, always stopped), the real edgemes daemon subscribing to it, and
// messages published with mosquitto_pub or edgemes-sim --mqtt. What is stored
// is read back from the SQLite file and the daemon's HTTP API.
#include "tests/e2e/e2e_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

using namespace edgemes::test;
using nlohmann::json;

namespace {

constexpr int64_t kTs0 = 1700000000000;  // payload timestamps start here

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A mosquitto of the test's own. Persistence on, in the temp dir, so what it
// queues for a session survives its own restart; no limit on queued messages,
// so every loss a test sees is edgemes's, never the broker's.
class broker {
public:
  broker(const temp_dir& dir, std::string extra = "")
      : dir_(dir), port_(free_port()), conf_(dir.file("mosquitto.conf")) {
    // Run as root, mosquitto would switch to the `mosquitto` user, who cannot
    // read the test's 0700 directory: stay the user the test runs as.
    const passwd* me = ::getpwuid(::getuid());
    write_file(conf_, "listener " + std::to_string(port_) + " 127.0.0.1\n" +
                          "user " + std::string(me ? me->pw_name : "root") + "\n" +
                          "persistence true\npersistence_location " + dir.path() + "/\n" +
                          "max_queued_messages 0\nmax_inflight_messages 100\n" +
                          (extra.empty() ? "allow_anonymous true\n" : extra));
    start();
  }
  void start() {
    proc_ = std::make_unique<process>(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf_},
                                      dir_.file("mosquitto.log"));
    bool up = wait_until([&] { return port_open(port_) || !proc_->running(); },
                         std::chrono::seconds(10));
    INFO(read_file(dir_.file("mosquitto.log")));
    REQUIRE(up);
    REQUIRE(proc_->running());
  }
  // SIGTERM: mosquitto saves its persistence file and exits.
  void stop() {
    proc_->signal(SIGTERM);
    REQUIRE(proc_->wait(std::chrono::seconds(10)) == 0);
    proc_.reset();
  }
  int port() const { return port_; }

private:
  const temp_dir& dir_;
  int port_;
  std::string conf_;
  std::unique_ptr<process> proc_;
};

// Publishes each line of `lines` as one QoS 1 message on `topic`, and waits
// until mosquitto_pub has had every one acknowledged by the broker.
void publish(const temp_dir& dir, int port, const std::string& topic,
             const std::vector<std::string>& lines, const std::vector<std::string>& auth = {}) {
  const std::string file = dir.file("publish.txt");
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  write_file(file, text);
  std::string cmd = "exec /usr/bin/mosquitto_pub -h 127.0.0.1 -p " + std::to_string(port) +
                    " -q 1 -t '" + topic + "' -l";
  for (const auto& a : auth)
    cmd += " '" + a + "'";
  cmd += " < '" + file + "'";
  process pub({"/bin/sh", "-c", cmd}, dir.file("mosquitto_pub.log"));
  int rc = pub.wait(std::chrono::seconds(120));
  INFO(pub.log());
  REQUIRE(rc == 0);
}

std::string sample(int64_t i, const std::string& extra = "") {
  return R"({"ts": )" + std::to_string(kTs0 + i) + R"(, "v": )" + std::to_string(i) +
         R"(, "state": "RUN")" + extra + "}";
}

std::vector<std::string> samples(int64_t from, int64_t count) {
  std::vector<std::string> out;
  for (int64_t i = from; i < from + count; ++i)
    out.push_back(sample(i));
  return out;
}

struct daemon_setup {
  json broker = json::object();
  json source = json::object();  // merged into every machine's source
  json writer = {{"max_batch", 500}, {"flush_interval_ms", 50}, {"max_queue", 100000}};
};

// A config with one mqtt machine per id, each on topic "e2e/<id>".
std::string write_config(const temp_dir& dir, int api_port, int broker_port,
                         const std::vector<std::string>& ids, const daemon_setup& s = {}) {
  json b = {{"id", "floor"}, {"host", "127.0.0.1"}, {"port", broker_port}};
  b.update(s.broker);
  json machines = json::array();
  for (const auto& id : ids) {
    json src = {{"adapter", "mqtt"},       {"broker", "floor"},    {"topic", "e2e/" + id},
                {"timestamp", "/ts"},     {"stale_after_ms", 60000}};
    src.update(s.source);
    machines.push_back({{"id", id}, {"type", "placer"}, {"source", src},
                        {"metrics", {{"v", "/v"}}}, {"state", "/state"}});
  }
  json cfg = {{"site", "e2e"},
              {"database", {{"path", dir.file("factory.db")}}},
              {"writer", s.writer},
              {"api", {{"bind", "127.0.0.1"}, {"port", api_port}, {"query_actors", 1}}},
              {"pollers", {{"max_backoff_ms", 500}}},
              {"mqtt", {{"brokers", {b}}}},
              {"lines", {{{"id", "l1"}, {"machines", machines}}}}};
  const auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}

json machine(int port, const std::string& id) { return get_json(port, "/api/v1/machines/" + id); }

int64_t polls(const json& m, const char* what) {
  return m.is_object() ? m["polls"][what].get<int64_t>() : -1;
}

std::string last_error(const json& m) {
  return m.is_object() && m["last_error"].is_string() ? m["last_error"].get<std::string>() : "";
}

// Waits until the daemon is subscribed (its log says so).
void wait_subscribed(const process& daemon, int times = 1) {
  bool ok = wait_until(
      [&] {
        const auto log = daemon.log();
        size_t n = 0, at = 0;
        while ((at = log.find("subscribed to", at)) != std::string::npos) {
          ++n;
          ++at;
        }
        return n >= static_cast<size_t>(times);
      },
      std::chrono::seconds(15));
  INFO(daemon.log());
  REQUIRE(ok);
}

int64_t stored(const temp_dir& dir, const std::string& id) {
  ro_db db(dir.file("factory.db"));
  return db.integer("SELECT count(*) FROM " + stored_polls +
                    " t JOIN machines m ON m.id = t.machine_id WHERE m.ident = '" + id + "'");
}

// The one broker's entry in /health's mqtt.brokers.
json broker_health(int port) {
  auto h = get_json(port, "/api/v1/health");
  REQUIRE(h.is_object());
  REQUIRE(h["mqtt"]["brokers"].size() == 1);
  return h["mqtt"]["brokers"][0];
}

void stop_daemon(process& daemon) {
  daemon.signal(SIGTERM);
  INFO(daemon.log());
  REQUIRE(daemon.wait(std::chrono::seconds(20)) == 0);
}

} // namespace

TEST_CASE("messages published with mosquitto_pub are stored exactly once each, and a repeated "
          "timestamp is one row counted as a duplicate",
          "[e2e][mqtt]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  auto cfg = write_config(dir, api, mosq.port(), {"m1", "m2"});
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);

  publish(dir, mosq.port(), "e2e/m1", samples(0, 200));
  publish(dir, mosq.port(), "e2e/m2", samples(0, 100));
  // Five more for m1 with timestamps it already has (other values).
  std::vector<std::string> repeats;
  for (int i = 0; i < 5; ++i)
    repeats.push_back(R"({"ts": )" + std::to_string(kTs0 + i * 10) + R"(, "v": -1, "state": "RUN"})");
  publish(dir, mosq.port(), "e2e/m1", repeats);

  bool all = wait_until(
      [&] {
        auto h = get_json(api, "/api/v1/health");
        return polls(machine(api, "m1"), "ok") == 205 && polls(machine(api, "m2"), "ok") == 100 &&
               h.is_object() && h["writer"]["rows_committed"] == 300 &&
               h["writer"]["duplicates"] == 5;
      },
      std::chrono::seconds(30));
  INFO(get_json(api, "/api/v1/health").dump() << "\n" << machine(api, "m1").dump());
  REQUIRE(all);
  auto m1 = machine(api, "m1");
  CHECK(m1["status"] == "online");
  CHECK(m1["state"] == "RUN");
  CHECK(m1["adapter"] == "mqtt");
  // The stored value of a repeated timestamp is the first message's.
  CHECK(m1["metrics"]["v"]["value"] == 199.0);
  stop_daemon(*daemon);

  CHECK(stored(dir, "m1") == 200);
  CHECK(stored(dir, "m2") == 100);
  ro_db db(dir.file("factory.db"));
  CHECK(db.integer(polls_stored_twice) == 0);
  CHECK(db.integer("SELECT min(ts) FROM " + stored_polls + " t") == kTs0);
}

TEST_CASE("messages published while the daemon is killed with SIGKILL are all stored after it "
          "restarts",
          "[e2e][mqtt]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  auto cfg = write_config(dir, api, mosq.port(), {"m1"});
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);
  // The session exists at the broker from the first subscription on.
  publish(dir, mosq.port(), "e2e/m1", samples(0, 1));
  REQUIRE(wait_until([&] { return polls(machine(api, "m1"), "ok") == 1; }, std::chrono::seconds(15)));
  REQUIRE(wait_until([&] {
    auto h = get_json(api, "/api/v1/health");
    return h.is_object() && h["writer"]["rows_committed"] == 1;
  }, std::chrono::seconds(15)));

  daemon->signal(SIGKILL);
  REQUIRE(daemon->wait(std::chrono::seconds(10)) == 128 + SIGKILL);
  publish(dir, mosq.port(), "e2e/m1", samples(1, 100));

  auto again = start_daemon(dir, api, cfg, "edgemes-2.log");
  bool all = wait_until(
      [&] {
        auto h = get_json(api, "/api/v1/health");
        return h.is_object() && h["writer"]["rows_committed"] == 100;
      },
      std::chrono::seconds(30));
  INFO(get_json(api, "/api/v1/health").dump() << "\n" << again->log());
  REQUIRE(all);
  stop_daemon(*again);
  CHECK(stored(dir, "m1") == 101);
}

TEST_CASE("a stopped broker turns its machines offline, and they recover when it is back without "
          "a daemon restart",
          "[e2e][mqtt]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  auto cfg = write_config(dir, api, mosq.port(), {"m1", "m2"});
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);
  publish(dir, mosq.port(), "e2e/m1", samples(0, 1));
  publish(dir, mosq.port(), "e2e/m2", samples(0, 1));
  REQUIRE(wait_until([&] { return machine(api, "m1")["status"] == "online" &&
                                  machine(api, "m2")["status"] == "online"; },
                     std::chrono::seconds(15)));
  auto link = broker_health(api);
  CHECK(link["id"] == "floor");
  CHECK(link["port"] == mosq.port());
  CHECK(link["connected"] == true);
  CHECK(link["connects"] == 1);
  CHECK(link["messages"] == 2);
  CHECK(link["last_error"] == "");

  mosq.stop();
  const std::string unreachable = "broker unreachable: 127.0.0.1:" + std::to_string(mosq.port());
  bool offline = wait_until(
      [&] {
        for (const char* id : {"m1", "m2"}) {
          auto m = machine(api, id);
          if (m["status"] != "offline" || last_error(m).rfind(unreachable, 0) != 0)
            return false;
        }
        return true;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump() << "\n" << daemon->log());
  REQUIRE(offline);
  CHECK(machine(api, "m1")["state"] == "OFFLINE");
  link = broker_health(api);
  CHECK(link["connected"] == false);
  CHECK(link["last_error"].get<std::string>().rfind(unreachable, 0) == 0);

  mosq.start();
  bool reconnected = wait_until(
      [&] { return last_error(machine(api, "m1")).find("connected to broker 'floor'") != std::string::npos; },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump() << "\n" << daemon->log());
  REQUIRE(reconnected);
  publish(dir, mosq.port(), "e2e/m1", samples(1, 1));
  publish(dir, mosq.port(), "e2e/m2", samples(1, 1));
  bool back = wait_until(
      [&] { return machine(api, "m1")["status"] == "online" && machine(api, "m2")["status"] == "online"; },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump());
  REQUIRE(back);
  CHECK(last_error(machine(api, "m1")).empty());
  link = broker_health(api);
  CHECK(link["connected"] == true);
  CHECK(link["connects"] == 2);
  CHECK(link["messages"] == 4);
  stop_daemon(*daemon);
  CHECK(stored(dir, "m1") == 2);
}

TEST_CASE("a machine that publishes nothing for stale_after_ms turns offline, and its next "
          "message brings it back",
          "[e2e][mqtt]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  daemon_setup s;
  s.source = {{"stale_after_ms", 500}};
  auto cfg = write_config(dir, api, mosq.port(), {"m1"}, s);
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);
  publish(dir, mosq.port(), "e2e/m1", samples(0, 1));
  REQUIRE(wait_until([&] { return polls(machine(api, "m1"), "ok") == 1; }, std::chrono::seconds(15)));
  bool stale = wait_until(
      [&] {
        auto m = machine(api, "m1");
        return m["status"] == "offline" && last_error(m).rfind("no message on e2e/m1 for ", 0) == 0;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump());
  REQUIRE(stale);
  publish(dir, mosq.port(), "e2e/m1", samples(1, 1));
  REQUIRE(wait_until([&] { return machine(api, "m1")["status"] == "online"; },
                     std::chrono::seconds(15)));
  stop_daemon(*daemon);
}

TEST_CASE("a wrong password is a clear error naming the broker, in the machines' last_error and "
          "the log",
          "[e2e][mqtt]") {
  temp_dir dir;
  const std::string passwd = dir.file("passwd");
  process mk({"/usr/bin/mosquitto_passwd", "-b", "-c", passwd, "edgemes", "right-secret"},
             dir.file("passwd.log"));
  REQUIRE(mk.wait(std::chrono::seconds(10)) == 0);
  broker mosq(dir, "allow_anonymous false\npassword_file " + passwd + "\n");
  write_file(dir.file("secret"), "wrong-secret\n");
  const int api = free_port();
  daemon_setup s;
  s.broker = {{"username", "edgemes"}, {"password_file", dir.file("secret")}};
  auto cfg = write_config(dir, api, mosq.port(), {"m1"}, s);
  auto daemon = start_daemon(dir, api, cfg);
  const std::string refused = "broker 'floor' at 127.0.0.1:" + std::to_string(mosq.port()) +
                              " refused the connection";
  bool shown = wait_until(
      [&] {
        auto m = machine(api, "m1");
        return m["status"] == "offline" && last_error(m).rfind(refused, 0) == 0;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump() << "\n" << daemon->log());
  REQUIRE(shown);
  const auto error = last_error(machine(api, "m1"));
  CHECK(error.find("not authorised") != std::string::npos);
  CHECK(error.find("check username and password_file") != std::string::npos);
  CHECK(daemon->log().find(refused) != std::string::npos);

  // The right password: the same daemon config with the file fixed connects.
  stop_daemon(*daemon);
  write_file(dir.file("secret"), "right-secret\n");
  auto again = start_daemon(dir, api, cfg, "edgemes-2.log");
  wait_subscribed(*again);
  publish(dir, mosq.port(), "e2e/m1", samples(0, 1), {"-u", "edgemes", "-P", "right-secret"});
  REQUIRE(wait_until([&] { return machine(api, "m1")["status"] == "online"; },
                     std::chrono::seconds(15)));
  stop_daemon(*again);
}

TEST_CASE("malformed JSON and an oversized payload are counted failures, never a crash",
          "[e2e][mqtt]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  daemon_setup s;
  s.source = {{"max_payload_bytes", 1024}};
  auto cfg = write_config(dir, api, mosq.port(), {"m1"}, s);
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);

  publish(dir, mosq.port(), "e2e/m1", {"{\"ts\": 17, \"v\": "});
  bool bad = wait_until(
      [&] {
        auto m = machine(api, "m1");
        return polls(m, "failed") == 1 &&
               last_error(m).rfind("message on e2e/m1: payload is not JSON", 0) == 0;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump());
  REQUIRE(bad);
  publish(dir, mosq.port(), "e2e/m1", {sample(1, ", \"pad\": \"" + std::string(5000, 'x') + "\"")});
  bool big = wait_until(
      [&] {
        auto m = machine(api, "m1");
        return polls(m, "failed") == 2 &&
               last_error(m).find("bytes is larger than max_payload_bytes (1024)") != std::string::npos;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump());
  REQUIRE(big);
  // A payload timestamp that is no time: a problem, the arrival time stamps it.
  publish(dir, mosq.port(), "e2e/m1", {R"({"ts": "yesterday", "v": 7, "state": "RUN"})"});
  publish(dir, mosq.port(), "e2e/m1", {sample(2)});
  bool good = wait_until(
      [&] {
        auto m = machine(api, "m1");
        return polls(m, "ok") == 2 && m["status"] == "online" && polls(m, "problems") == 1;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump());
  REQUIRE(good);
  stop_daemon(*daemon);
  CHECK(stored(dir, "m1") == 2);
}

TEST_CASE("a burst of 50000 messages: every one is stored or counted as dropped, and memory "
          "stays bounded",
          "[e2e][mqtt][overload]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  daemon_setup s;
  // A small hand-over bound and writer queue, so both drop points are in play;
  // 2 KiB payloads, so 50000 held at once would be ~100 MiB.
  s.broker = {{"max_pending_bytes", 262144}};
  s.writer = {{"max_batch", 1000}, {"flush_interval_ms", 50}, {"max_queue", 2000}};
  auto cfg = write_config(dir, api, mosq.port(), {"m1"}, s);
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);

  const int64_t n = 50000;
  std::vector<std::string> lines;
  const std::string pad = ", \"pad\": \"" + std::string(2000, 'p') + "\"";
  for (int64_t i = 0; i < n; ++i)
    lines.push_back(sample(i, pad));
  publish(dir, mosq.port(), "e2e/m1", lines);

  // Every message reached the machine's actor (ok) or was dropped on the way
  // (missed); every one that reached it was stored or refused by the writer's
  // queue bound (dropped_samples: one sample per message).
  auto h = json();
  auto m = json();
  bool accounted = wait_until(
      [&] {
        m = machine(api, "m1");
        h = get_json(api, "/api/v1/health");
        return polls(m, "ok") + polls(m, "missed") == n && h.is_object() &&
               h["writer"]["queue_depth"] == 0 &&
               h["writer"]["samples_committed"].get<int64_t>() +
                       h["writer"]["dropped_samples"].get<int64_t>() ==
                   polls(m, "ok");
      },
      std::chrono::seconds(60));
  INFO(m.dump() << "\n" << h.dump());
  REQUIRE(accounted);
  CHECK(polls(m, "failed") == 0);
  CHECK(h["writer"]["duplicates"] == 0);
  // Peak resident memory of the daemon over the whole burst.
  std::ifstream status("/proc/" + std::to_string(daemon->pid()) + "/status");
  std::string line;
  int64_t hwm_kib = 0;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      hwm_kib = std::stoll(line.substr(6));
  INFO("peak RSS " << hwm_kib << " KiB; stored " << h["writer"]["samples_committed"]
                   << ", refused by the writer's queue " << h["writer"]["dropped_samples"]
                   << ", dropped before the actor " << polls(m, "missed"));
  CHECK(hwm_kib > 0);
  CHECK(hwm_kib < 120 * 1024);
  stop_daemon(*daemon);
  CHECK(stored(dir, "m1") == h["writer"]["samples_committed"].get<int64_t>());
  WARN("burst of " << n << ": stored " << h["writer"]["samples_committed"]
                   << ", refused by the writer's queue " << h["writer"]["dropped_samples"]
                   << ", dropped before the actor " << polls(m, "missed") << ", peak RSS "
                   << hwm_kib / 1024 << " MiB");
}

TEST_CASE("edgemes-sim --mqtt publishes its machines with 20 metrics each, and the config it "
          "prints stores every message that arrived exactly once, every metric with a value",
          "[e2e][mqtt][sim]") {
  temp_dir dir;
  broker mosq(dir);
  const int api = free_port();
  const std::string where = "127.0.0.1:" + std::to_string(mosq.port());
  const std::vector<std::string> sim_args{binary("edgemes-sim"), "--mqtt", where, "--machines", "3",
                                          "--interval-ms", "100", "--metrics", "20"};
  auto print_args = sim_args;
  print_args.push_back("--print-mqtt-config");
  process print(print_args, dir.file("print.json"));
  REQUIRE(print.wait(std::chrono::seconds(10)) == 0);
  json cfg = json::parse(read_file(dir.file("print.json")));
  REQUIRE(cfg["lines"][0]["machines"].size() == 3);
  cfg["database"] = {{"path", dir.file("factory.db")}};
  cfg["writer"] = {{"flush_interval_ms", 50}};
  cfg["api"] = {{"bind", "127.0.0.1"}, {"port", api}, {"query_actors", 1}};
  write_file(dir.file("edgemes.json"), cfg.dump(2));
  auto daemon = start_daemon(dir, api, dir.file("edgemes.json"));
  wait_subscribed(*daemon);

  process sim(sim_args, dir.file("sim.log"));
  bool flowing = wait_until(
      [&] {
        for (const char* id : {"m0001", "m0002", "m0003"})
          if (polls(machine(api, id), "ok") < 10)
            return false;
        return true;
      },
      std::chrono::seconds(30));
  INFO(sim.log() << "\n" << machine(api, "m0001").dump());
  REQUIRE(flowing);
  sim.signal(SIGTERM);
  REQUIRE(sim.wait(std::chrono::seconds(10)) == 0);
  CHECK(sim.log().find("edgemes-sim publishing 3 machines to " + where) != std::string::npos);

  // Everything the sim published while it ran has arrived once the counts stop moving.
  int64_t last = -1;
  bool settled = wait_until(
      [&] {
        auto h = get_json(api, "/api/v1/health");
        const int64_t rows = h.is_object() ? h["writer"]["rows_committed"].get<int64_t>() : -2;
        const bool same = rows == last;
        last = rows;
        return same && h["writer"]["queue_depth"] == 0;
      },
      std::chrono::seconds(20));
  REQUIRE(settled);
  auto m1 = machine(api, "m0001");
  CHECK(m1["status"] == "online");
  CHECK(polls(m1, "problems") == 0);
  CHECK(m1["metrics"].contains("boards_total"));
  CHECK(m1["state"].is_string());
  for (const char* id : {"m0001", "m0002", "m0003"}) {
    auto m = machine(api, id);
    INFO(m.dump());
    CHECK(m["metrics"].size() == 20);  // standard ones, then extra/x1..
    for (const auto& [name, v] : m["metrics"].items())
      CHECK(v["value"].is_number());
  }
  int64_t ok = 0;
  for (const char* id : {"m0001", "m0002", "m0003"})
    ok += polls(machine(api, id), "ok");
  stop_daemon(*daemon);
  // One row per message that arrived (the sim stamps each with its own ts_ms).
  CHECK(stored(dir, "m0001") + stored(dir, "m0002") + stored(dir, "m0003") == ok);
  ro_db db(dir.file("factory.db"));
  CHECK(db.integer(polls_stored_twice) == 0);
}

namespace {

// A test CA, a broker certificate for 127.0.0.1 and a client certificate,
// made with Debian's openssl (EC keys: fast), plus a second CA that signed
// nothing the broker has.
void make_certificates(const temp_dir& dir) {
  const std::string script = R"(set -e
cd ')" + dir.path() + R"('
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj "/CN=edgemes test CA"
key other-ca.key
openssl req -x509 -new -key other-ca.key -out other-ca.crt -days 2 -subj "/CN=someone else"
key server.key
openssl req -new -key server.key -out server.csr -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
  -days 2 -extfile san.ext 2>/dev/null
key client.key
openssl req -new -key client.key -out client.csr -subj "/CN=edgemes"
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt \
  -days 2 2>/dev/null
)";
  process mk({"/bin/sh", "-c", script}, dir.file("openssl.log"));
  const int rc = mk.wait(std::chrono::seconds(30));
  INFO(mk.log());
  REQUIRE(rc == 0);
}

} // namespace

TEST_CASE("over TLS with a client certificate the broker requires, messages are stored; a broker "
          "its ca_file did not sign is a clear TLS error",
          "[e2e][mqtt][tls]") {
  temp_dir dir;
  make_certificates(dir);
  broker mosq(dir, "allow_anonymous true\ncafile " + dir.file("ca.crt") + "\ncertfile " +
                       dir.file("server.crt") + "\nkeyfile " + dir.file("server.key") +
                       "\nrequire_certificate true\n");
  const int api = free_port();
  daemon_setup s;
  s.broker = {{"ca_file", dir.file("ca.crt")},
              {"cert_file", dir.file("client.crt")},
              {"key_file", dir.file("client.key")}};
  auto cfg = write_config(dir, api, mosq.port(), {"m1"}, s);
  auto daemon = start_daemon(dir, api, cfg);
  wait_subscribed(*daemon);
  publish(dir, mosq.port(), "e2e/m1", samples(0, 50),
          {"--cafile", dir.file("ca.crt"), "--cert", dir.file("client.crt"), "--key",
           dir.file("client.key")});
  bool all = wait_until([&] { return polls(machine(api, "m1"), "ok") == 50; },
                        std::chrono::seconds(20));
  INFO(machine(api, "m1").dump() << "\n" << daemon->log());
  REQUIRE(all);
  CHECK(machine(api, "m1")["status"] == "online");
  stop_daemon(*daemon);
  CHECK(stored(dir, "m1") == 50);

  // The same broker checked against a CA that did not sign its certificate.
  s.broker["ca_file"] = dir.file("other-ca.crt");
  cfg = write_config(dir, api, mosq.port(), {"m1"}, s);
  auto wrong = start_daemon(dir, api, cfg, "edgemes-2.log");
  const std::string where = "broker unreachable: 127.0.0.1:" + std::to_string(mosq.port());
  bool shown = wait_until(
      [&] {
        auto m = machine(api, "m1");
        return m["status"] == "offline" && last_error(m).find(where) != std::string::npos;
      },
      std::chrono::seconds(15));
  INFO(machine(api, "m1").dump() << "\n" << wrong->log());
  REQUIRE(shown);
  const auto error = last_error(machine(api, "m1"));
  CHECK(error.find("TLS handshake failed") != std::string::npos);
  CHECK(error.find("certificate verify failed") != std::string::npos);  // OpenSSL's reason
  CHECK(error.find("check ca_file") != std::string::npos);
  stop_daemon(*wrong);
}
