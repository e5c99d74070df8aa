// tests/faults: what the fault and overload tests share — a daemon's memory
// (VmRSS), per-machine poll counters read through the API, and a config of
// http_json placers polling an edgemes-sim.
#pragma once

#include "tests/e2e/e2e_support.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace edgemes::test::faults {

using nlohmann::json;

// VmRSS of a process in KiB (0 when unreadable).
inline int64_t vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      int64_t kib = 0;
      fields >> kib;
      return kib;
    }
  return 0;
}

// machine id -> its entry of /api/v1/machines.
inline std::map<std::string, json> machines_by_id(int port) {
  std::map<std::string, json> out;
  auto doc = get_json(port, "/api/v1/machines");
  if (doc.is_object() && doc["machines"].is_array())
    for (auto& m : doc["machines"])
      out[m["id"].get<std::string>()] = m;
  return out;
}

inline json placer_metrics() {
  return {{"placements_total", "/counters/placements"}, {"boards_total", "/counters/boards"},
          {"rejects_total", "/counters/rejects"},       {"cycle_time_s", "/cycle_time_s"},
          {"feeder_errors", "/feeder_errors"},          {"nozzle_vacuum_kpa", "/nozzle_vacuum_kpa"},
          {"head_temp_c", "/head_temp_c"}};
}

inline json http_placer(const std::string& id, int sim_port, int64_t interval_ms,
                        int64_t timeout_ms) {
  return {{"id", id},
          {"type", "placer"},
          {"poll_interval_ms", interval_ms},
          {"source",
           {{"adapter", "http_json"},
            {"url", "http://127.0.0.1:" + std::to_string(sim_port) + "/machines/" + id + "/status"},
            {"timeout_ms", timeout_ms},
            {"max_reply_bytes", 1048576}}},
          {"metrics", placer_metrics()},
          {"state", "/state"}};
}

} // namespace edgemes::test::faults
