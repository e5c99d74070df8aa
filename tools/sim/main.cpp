// edgemes-sim: simulated SMT machines over HTTP and Modbus TCP (or published
// to an MQTT broker with --mqtt), for tests, demos and benchmarks. Parses the
// command line, builds the machine list, serves until SIGINT or SIGTERM, then
// stops cleanly and exits 0.
// Exit codes: 0 stopped by a signal, 1 could not serve, 2 bad command line.
#include "adapters/sim_model.hpp"
#include "adapters/sim_modbus.hpp"
#include "tools/sim/fault.hpp"
#include "tools/sim/modbus_server.hpp"
#include "tools/sim/mqtt_publisher.hpp"
#include "tools/sim/server.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

using edgemes::sim::machine_spec;

const char* usage =
    "usage: edgemes-sim [--port P] [--modbus-port M] [--bind ADDR]\n"
    "                   (--config FILE | --machines N [--types LIST])\n"
    "                   [--fault ID=MODE]... [--seed S] [--slow-ms MS] [--threads T]\n"
    "                   [--keep-alive-s S]\n"
    "       edgemes-sim --print-config modbus --modbus-port M [--bind ADDR] (--config FILE | --machines N ...)\n"
    "       edgemes-sim --mqtt HOST:PORT (--config FILE | --machines N [--types LIST])\n"
    "                   [--interval-ms MS] [--topic-prefix P] [--metrics N] [--seed S]\n"
    "                   [--print-mqtt-config]\n"
    "\n"
    "Serves simulated SMT machines over HTTP and/or Modbus TCP, or publishes them to an\n"
    "MQTT broker (see docs/SIMULATOR.md).\n"
    "  --port P          HTTP port to listen on (0 = any free port, printed when listening)\n"
    "  --modbus-port M   serve Modbus TCP too: machine i (from 0) is unit 1 + i % 247 on\n"
    "                    port M + i / 247 (0 = any free ports, printed when listening)\n"
    "  --print-config modbus\n"
    "                    print an edgemes config polling these machines over Modbus TCP\n"
    "                    at --bind:--modbus-port, and exit\n"
    "  --bind ADDR       address to listen on (default 127.0.0.1)\n"
    "  --config FILE     take machine ids and types from an edgemes config (lines[].machines[])\n"
    "  --machines N      N machines named m0001, m0002, ... cycling through --types\n"
    "  --types LIST      comma-separated types (default placer,printer,reflow,aoi)\n"
    "  --fault ID=MODE   start machine ID in fault MODE; modes: none, slow, http500,\n"
    "                    broken_json, reset, missing_fields, huge, wrong_type, flap,\n"
    "                    down\n"
    "  --seed S          seed for every machine's model (default 0 = from the machine id)\n"
    "  --slow-ms MS      how long the slow fault delays a reply (default 5000)\n"
    "  --threads T       HTTP worker threads (default max(64, machines + 32); 64 with\n"
    "                    --keep-alive-s 0)\n"
    "  --keep-alive-s S  how long an idle keep-alive connection stays open (default 5);\n"
    "                    0 = close every connection after one reply. Each open connection\n"
    "                    holds a worker thread that wakes ~90 times a second while idle\n"
    "                    (cpp-httplib 0.11), so 1000 pollers with keep-alive cost the\n"
    "                    simulator itself more than a core: benchmarks use 0.\n"
    "  --mqtt HOST:PORT  publish each machine's status document (with ts_ms) to\n"
    "                    <prefix>/<id> at QoS 1 instead of serving HTTP\n"
    "  --interval-ms MS  --mqtt: how often each machine publishes (default 1000)\n"
    "  --topic-prefix P  --mqtt: topic prefix (default edgemes-sim)\n"
    "  --metrics N       --mqtt: at least N values per document: the type's standard\n"
    "                    ones, then extra/x1.. (noisy readings and counters)\n"
    "  --print-mqtt-config  --mqtt: print the edgemes config that reads these machines\n"
    "                    from the broker, and exit\n";

struct options {
  int port = -1;
  int modbus_port = -1;
  std::string print_config;
  std::string bind = "127.0.0.1";
  std::string config;
  long machines = 0;
  std::vector<std::string> types = edgemes::adapters::sim_types();
  std::vector<std::pair<std::string, std::string>> faults;
  uint64_t seed = 0;
  int64_t slow_ms = 5000;
  size_t threads = 0;
  long keep_alive_s = 5;
  std::string mqtt;  // HOST:PORT; set = MQTT mode
  int64_t interval_ms = 1000;
  int metrics = 0;
  std::string topic_prefix = "edgemes-sim";
  bool print_mqtt_config = false;
};

[[noreturn]] void fail(const std::string& message, int code = 2) {
  std::cerr << "edgemes-sim: " << message << "\n";
  std::exit(code);
}

long long number(const std::string& flag, const std::string& text, long long lo, long long hi) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size() && v >= lo && v <= hi)
      return v;
  } catch (const std::exception&) {
  }
  fail(flag + " wants a number from " + std::to_string(lo) + " to " + std::to_string(hi) +
       ", not '" + text + "'");
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty())
      out.push_back(item);
  return out;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    if (arg == "--print-mqtt-config") {
      o.print_mqtt_config = true;
      continue;
    }
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      fail("missing value after " + arg + "\n" + usage);
    }
    if (arg == "--port")
      o.port = static_cast<int>(number(arg, value, 0, 65535));
    else if (arg == "--modbus-port")
      o.modbus_port = static_cast<int>(number(arg, value, 0, 65535));
    else if (arg == "--print-config")
      o.print_config = value;
    else if (arg == "--bind")
      o.bind = value;
    else if (arg == "--config")
      o.config = value;
    else if (arg == "--machines")
      o.machines = static_cast<long>(number(arg, value, 1, 100000));
    else if (arg == "--types")
      o.types = split(value, ',');
    else if (arg == "--fault") {
      size_t at = value.find('=');
      if (at == std::string::npos || at == 0)
        fail("--fault wants ID=MODE, not '" + value + "'");
      o.faults.emplace_back(value.substr(0, at), value.substr(at + 1));
    } else if (arg == "--seed")
      o.seed = static_cast<uint64_t>(number(arg, value, 0, INT64_MAX));
    else if (arg == "--slow-ms")
      o.slow_ms = number(arg, value, 0, 3600000);
    else if (arg == "--threads")
      o.threads = static_cast<size_t>(number(arg, value, 1, 100000));
    else if (arg == "--keep-alive-s")
      o.keep_alive_s = static_cast<long>(number(arg, value, 0, 3600));
    else if (arg == "--mqtt")
      o.mqtt = value;
    else if (arg == "--interval-ms")
      o.interval_ms = number(arg, value, 10, 3600000);
    else if (arg == "--topic-prefix")
      o.topic_prefix = value;
    else if (arg == "--metrics")
      o.metrics = static_cast<int>(number(arg, value, 0, 1000));
    else
      fail("unknown option " + arg + "\n" + usage);
  }
  if (!o.print_config.empty()) {
    if (o.print_config != "modbus")
      fail("--print-config knows only 'modbus', not '" + o.print_config + "'");
    if (o.modbus_port <= 0)
      fail("--print-config modbus needs the --modbus-port (not 0) the simulator will serve on");
  } else if (o.port < 0 && o.modbus_port < 0 && o.mqtt.empty()) {
    fail("give --port, --modbus-port or both (--port is required to serve HTTP; or --mqtt "
         "HOST:PORT to publish instead)\n" + std::string(usage));
  }
  if ((o.port >= 0 || o.modbus_port >= 0) && !o.mqtt.empty())
    fail("give --port / --modbus-port (serve) or --mqtt (publish), not both");
  if (o.metrics > 0 && o.mqtt.empty())
    fail("--metrics applies to --mqtt HOST:PORT only");
  if (o.print_mqtt_config && o.mqtt.empty())
    fail("--print-mqtt-config needs --mqtt HOST:PORT");
  if (o.topic_prefix.empty() || o.topic_prefix.find_first_of("+#") != std::string::npos)
    fail("--topic-prefix must be non-empty, without + or #");
  if (o.config.empty() == (o.machines == 0))
    fail("give exactly one of --config FILE or --machines N");
  if (o.types.empty())
    fail("--types is empty");
  for (const auto& t : o.types)
    if (!edgemes::adapters::is_sim_type(t))
      fail("unknown type '" + t + "' in --types (known: placer, printer, reflow, aoi)");
  return o;
}

// Only what the simulator needs from an edgemes config: lines[].machines[].{id,type}.
std::vector<machine_spec> machines_from_config(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    fail("cannot read config " + path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(text.str(), nullptr, true, true);
  } catch (const nlohmann::json::exception& e) {
    fail("config " + path + " is not JSON: " + e.what());
  }
  std::vector<machine_spec> out;
  if (!cfg.is_object() || !cfg.contains("lines") || !cfg["lines"].is_array())
    fail("config " + path + " has no \"lines\" array");
  for (const auto& line : cfg["lines"]) {
    if (!line.is_object() || !line.contains("machines") || !line["machines"].is_array())
      continue;
    for (const auto& m : line["machines"]) {
      if (!m.is_object() || !m.contains("id") || !m["id"].is_string())
        continue;
      std::string id = m["id"], type = m.value("type", std::string());
      if (!edgemes::adapters::is_sim_type(type)) {
        std::cerr << "edgemes-sim: skipping machine '" << id << "': type '" << type
                  << "' is not simulated (placer, printer, reflow, aoi)\n";
        continue;
      }
      out.push_back({id, type, edgemes::sim::fault::none});
    }
  }
  if (out.empty())
    fail("config " + path + " lists no machine of a simulated type");
  return out;
}

std::vector<machine_spec> generated_machines(long count, const std::vector<std::string>& types) {
  std::vector<machine_spec> out;
  for (long i = 0; i < count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "m%04ld", i + 1);
    out.push_back({id, types[static_cast<size_t>(i) % types.size()], edgemes::sim::fault::none});
  }
  return out;
}

// An edgemes config that polls `machines` over Modbus TCP as modbus_server serves them.
nlohmann::ordered_json modbus_config(const std::vector<machine_spec>& machines, const std::string& host,
                                     int base_port) {
  using ojson = nlohmann::ordered_json;
  namespace mb = edgemes::adapters::modbus;
  ojson list = ojson::array();
  for (size_t i = 0; i < machines.size(); ++i) {
    const auto* map = edgemes::adapters::find_sim_modbus_map(machines[i].type);
    ojson metrics = ojson::object();
    for (size_t k = 2; k < map->values.size(); ++k) {  // the standard metrics, not seq and ts_ms
      const auto& r = map->values[k];
      ojson reg{{"table", "holding"}, {"address", r.point.address}, {"type", mb::name_of(r.point.type)}};
      if (r.point.scale != 1)
        reg["scale"] = r.point.scale;
      metrics[r.name] = reg;
    }
    ojson codes = ojson::object();
    for (const auto& [code, text] : map->state_codes)
      codes[std::to_string(code)] = text;
    list.push_back(
        {{"id", machines[i].id},
         {"type", machines[i].type},
         {"poll_interval_ms", 1000},
         {"source",
          {{"adapter", "modbus_tcp"},
           {"host", host},
           {"port", base_port + static_cast<int>(i / edgemes::sim::kUnitsPerPort)},
           {"unit_id", 1 + static_cast<int>(i % edgemes::sim::kUnitsPerPort)}}},
         {"metrics", metrics},
         {"state",
          {{"table", "holding"}, {"address", map->state.address}, {"type", "uint16"}, {"map", codes}}}});
  }
  return {{"site", "edgemes-sim"},
          {"lines", ojson::array({{{"id", "sim"}, {"name", "edgemes-sim over Modbus TCP"},
                                   {"machines", list}}})}};
}

} // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  std::vector<machine_spec> machines =
      o.config.empty() ? generated_machines(o.machines, o.types) : machines_from_config(o.config);
  for (const auto& [id, mode_name] : o.faults) {
    auto mode = edgemes::sim::parse_fault(mode_name);
    if (!mode)
      fail("unknown fault mode '" + mode_name + "' (modes: " + edgemes::sim::fault_names() + ")");
    bool found = false;
    for (auto& m : machines)
      if (m.id == id) {
        m.mode = *mode;
        found = true;
      }
    if (!found)
      fail("--fault names machine '" + id + "', which is not simulated");
  }

  if (o.print_config == "modbus") {
    std::cout << modbus_config(machines, o.bind, o.modbus_port).dump(2) << std::endl;
    return 0;
  }
  if (!o.mqtt.empty()) {
    edgemes::sim::mqtt_options mo;
    const size_t colon = o.mqtt.rfind(':');
    if (colon == std::string::npos || colon == 0)
      fail("--mqtt wants HOST:PORT, not '" + o.mqtt + "'");
    mo.host = o.mqtt.substr(0, colon);
    mo.port = static_cast<int>(number("--mqtt", o.mqtt.substr(colon + 1), 1, 65535));
    mo.topic_prefix = o.topic_prefix;
    mo.interval_ms = o.interval_ms;
    mo.seed = o.seed;
    mo.metrics = o.metrics;
    if (o.print_mqtt_config) {
      std::cout << edgemes::sim::mqtt_config(machines, mo).dump(2) << std::endl;
      return 0;
    }
    // Taken by sigwait() in publish(): blocked before its threads exist.
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return edgemes::sim::publish(machines, mo);
  }

  // Signals are taken by sigwait() in this thread only: block them before any
  // other thread exists so every thread inherits the mask.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  size_t threads = o.threads                 ? o.threads
                   : o.keep_alive_s == 0 ? size_t{64}
                                         : std::max<size_t>(64, machines.size() + 32);
  edgemes::sim::server srv(machines, o.seed, o.slow_ms, threads, o.keep_alive_s);
  edgemes::sim::modbus_server modbus(srv);
  int port = -1;
  if (o.port >= 0) {
    port = srv.bind(o.bind, o.port);
    if (port < 0)
      fail("cannot listen on " + o.bind + ":" + std::to_string(o.port) +
               " (address in use, or not an address of this host)",
           1);
  }
  std::vector<int> modbus_ports;
  if (o.modbus_port >= 0) {
    std::string why;
    modbus_ports = modbus.bind(o.bind, o.modbus_port, &why);
    if (modbus_ports.empty())
      fail("Modbus: " + why, 1);
  }

  std::atomic<bool> serve_failed{false};
  std::thread serving, serving_modbus;
  if (port >= 0) {
    serving = std::thread([&] {
      if (!srv.listen()) {
        serve_failed = true;
        ::kill(::getpid(), SIGTERM);  // wake sigwait below
      }
    });
    std::cout << "edgemes-sim listening on " << o.bind << ":" << port << " (" << machines.size()
              << " machines)" << std::endl;
  }
  if (!modbus_ports.empty()) {
    serving_modbus = std::thread([&] {
      if (!modbus.run()) {
        serve_failed = true;
        ::kill(::getpid(), SIGTERM);
      }
    });
    std::cout << "edgemes-sim modbus listening on " << o.bind << ":";
    for (size_t i = 0; i < modbus_ports.size(); ++i)
      std::cout << (i ? "," : "") << modbus_ports[i];
    std::cout << " (" << machines.size() << " machines, units 1.." << edgemes::sim::kUnitsPerPort
              << " a port)" << std::endl;
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  if (serving.joinable()) {
    srv.stop();
    serving.join();
  }
  if (serving_modbus.joinable()) {
    modbus.stop();
    serving_modbus.join();
  }
  if (serve_failed) {
    std::cerr << "edgemes-sim: serving on " << o.bind << " failed\n";
    return 1;
  }
  return 0;
}
