#include "tools/sim/mqtt_publisher.hpp"

#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"

#include <mosquitto.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

namespace edgemes::sim {

namespace {

std::atomic<bool> connected{false};

void on_connect(mosquitto*, void*, int rc) { connected = rc == 0; }
void on_disconnect(mosquitto*, void*, int) { connected = false; }

// How many "extra" values a machine of `type` carries to have `wanted` in all.
size_t extra_count(const std::string& type, int wanted) {
  const size_t standard = adapters::sim_standard_metrics(type).size();
  return wanted > 0 && static_cast<size_t>(wanted) > standard ? wanted - standard : 0;
}

// Fills doc["extra"] with `count` values for publish number `seq` of machine
// `index`: odd k a counter (grows by 0-3 a publish), even k a reading around
// 20 + k with a slow swing and 0.1 steps of noise. Deterministic.
void add_extra(nlohmann::json& doc, size_t count, size_t index, int64_t seq,
               std::vector<double>& counters) {
  if (count == 0)
    return;
  counters.resize(count);
  nlohmann::json extra = nlohmann::json::object();
  uint64_t x = (static_cast<uint64_t>(index) + 1) * 0x9E3779B97F4A7C15ULL ^
               static_cast<uint64_t>(seq) * 0xBF58476D1CE4E5B9ULL;
  for (size_t k = 0; k < count; ++k) {
    x ^= x >> 31;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 29;
    if (k % 2 == 1) {
      counters[k] += static_cast<double>(x % 4);
      extra["x" + std::to_string(k + 1)] = counters[k];
    } else {
      const double swing = 2 * std::sin(static_cast<double>(seq) / 300.0 + static_cast<double>(k));
      const double noise = static_cast<double>(static_cast<int>(x % 11) - 5) / 10.0;
      extra["x" + std::to_string(k + 1)] = std::round((20.0 + static_cast<double>(k) + swing + noise) * 10) / 10;
    }
  }
  doc["extra"] = std::move(extra);
}

} // namespace

nlohmann::ordered_json mqtt_config(const std::vector<machine_spec>& machines, const mqtt_options& o) {
  using ojson = nlohmann::ordered_json;
  ojson list = ojson::array();
  for (const auto& m : machines) {
    ojson metrics = ojson::object();
    for (const auto& [name, pointer] : adapters::sim_standard_metrics(m.type))
      metrics[name] = pointer;
    for (size_t k = 1; k <= extra_count(m.type, o.metrics); ++k)
      metrics["x" + std::to_string(k)] = "/extra/x" + std::to_string(k);
    list.push_back({{"id", m.id},
                    {"type", m.type},
                    {"source",
                     {{"adapter", "mqtt"},
                      {"broker", "sim"},
                      {"topic", o.topic_prefix + "/" + m.id},
                      {"timestamp", "/ts_ms"},
                      {"stale_after_ms", std::max<int64_t>(5 * o.interval_ms, 1000)}}},
                    {"metrics", metrics},
                    {"state", "/state"}});
  }
  return {{"site", "edgemes-sim"},
          {"mqtt", {{"brokers", {{{"id", "sim"}, {"host", o.host}, {"port", o.port}}}}}},
          {"lines", {{{"id", "sim"}, {"name", "Simulated line"}, {"machines", list}}}}};
}

int publish(const std::vector<machine_spec>& machines, const mqtt_options& o) {
  mosquitto_lib_init();
  const std::string client_id = "edgemes-sim-" + std::to_string(::getpid());
  mosquitto* mosq = mosquitto_new(client_id.c_str(), true, nullptr);
  if (!mosq) {
    std::cerr << "edgemes-sim: cannot create an MQTT client\n";
    return 1;
  }
  mosquitto_connect_callback_set(mosq, on_connect);
  mosquitto_disconnect_callback_set(mosq, on_disconnect);
  mosquitto_reconnect_delay_set(mosq, 1, 10, true);
  mosquitto_connect_async(mosq, o.host.c_str(), o.port, 30);  // a failure is retried by the loop
  if (mosquitto_loop_start(mosq) != MOSQ_ERR_SUCCESS) {
    std::cerr << "edgemes-sim: cannot start the MQTT network thread\n";
    mosquitto_destroy(mosq);
    return 1;
  }

  std::vector<std::unique_ptr<adapters::sim_machine>> models;
  for (const auto& m : machines)
    models.push_back(std::make_unique<adapters::sim_machine>(m.id, m.type, o.seed));
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> counters(models.size());
  std::atomic<int64_t> published{0}, skipped{0};
  std::thread publisher([&] {
    auto next = std::chrono::steady_clock::now();
    for (int64_t seq = 0; !stop; ++seq) {
      const int64_t now = clock::wall_ms();
      for (size_t i = 0; i < models.size(); ++i) {
        auto doc = models[i]->reply(now);
        add_extra(doc, extra_count(machines[i].type, o.metrics), i, seq, counters[i]);
        const std::string body = doc.dump();
        const std::string topic = o.topic_prefix + "/" + machines[i].id;
        if (connected && mosquitto_publish(mosq, nullptr, topic.c_str(), static_cast<int>(body.size()),
                                           body.data(), 1, false) == MOSQ_ERR_SUCCESS)
          ++published;
        else
          ++skipped;
      }
      next += std::chrono::milliseconds(o.interval_ms);
      while (!stop && std::chrono::steady_clock::now() < next)
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            next - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
    }
  });
  std::cout << "edgemes-sim publishing " << machines.size() << " machines to " << o.host << ":"
            << o.port << " as " << o.topic_prefix << "/<id> every " << o.interval_ms << " ms"
            << std::endl;

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  stop = true;
  publisher.join();
  mosquitto_disconnect(mosq);
  mosquitto_loop_stop(mosq, false);
  mosquitto_destroy(mosq);
  mosquitto_lib_cleanup();
  std::cout << "edgemes-sim published " << published << " messages, skipped " << skipped
            << " while not connected" << std::endl;
  return 0;
}

} // namespace edgemes::sim
