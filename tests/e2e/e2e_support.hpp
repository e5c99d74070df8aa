// tests/e2e: helpers shared by the end-to-end tests — a daemon and a
// simulator started as real processes on free loopback ports.
#pragma once

#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace edgemes::test {

inline nlohmann::json get_json(int port, const std::string& target, int* status = nullptr) {
  auto r = http_get(port, target);
  if (status)
    *status = r.status;
  if (r.status == 0)
    return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

// Starts `edgemes-sim` for the machines of `config_path` and waits until it answers.
inline std::unique_ptr<process> start_sim(const temp_dir& dir, int port,
                                          const std::string& config_path,
                                          const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{binary("edgemes-sim"), "--port", std::to_string(port), "--config",
                                config_path};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = std::make_unique<process>(argv, dir.file("sim.log"));
  bool up = wait_until([&] { return http_get(port, "/machines").status == 200; },
                       std::chrono::seconds(10));
  INFO(p->log());
  REQUIRE(up);
  return p;
}

// Starts `edgemes run --config FILE` and waits until /api/v1/health answers.
inline std::unique_ptr<process> start_daemon(const temp_dir& dir, int port,
                                             const std::string& config_path,
                                             const std::string& log_name = "edgemes.log") {
  auto p = std::make_unique<process>(
      std::vector<std::string>{binary("edgemes"), "run", "--config", config_path},
      dir.file(log_name));
  bool up = wait_until([&] { return http_get(port, "/api/v1/health").status == 200 || !p->running(); },
                       std::chrono::seconds(15));
  INFO(p->log());
  REQUIRE(up);
  REQUIRE(p->running());
  return p;
}

} // namespace edgemes::test
