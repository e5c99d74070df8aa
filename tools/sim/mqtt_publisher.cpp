#include "tools/sim/mqtt_publisher.hpp"

#include "adapters/sim_model.hpp"
#include "clock/clock.hpp"

#include <mosquitto.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

namespace edgemes::sim {

namespace {

std::atomic<bool> connected{false};

void on_connect(mosquitto*, void*, int rc) { connected = rc == 0; }
void on_disconnect(mosquitto*, void*, int) { connected = false; }

} // namespace

nlohmann::ordered_json mqtt_config(const std::vector<machine_spec>& machines, const mqtt_options& o) {
  using ojson = nlohmann::ordered_json;
  ojson list = ojson::array();
  for (const auto& m : machines) {
    ojson metrics = ojson::object();
    for (const auto& [name, pointer] : adapters::sim_standard_metrics(m.type))
      metrics[name] = pointer;
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
  std::atomic<int64_t> published{0}, skipped{0};
  std::thread publisher([&] {
    auto next = std::chrono::steady_clock::now();
    while (!stop) {
      const int64_t now = clock::wall_ms();
      for (size_t i = 0; i < models.size(); ++i) {
        const std::string body = models[i]->reply(now).dump();
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
