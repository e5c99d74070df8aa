// tests/support/modbus_device: a real Modbus TCP device for tests — pymodbus
// (Debian python3-pymodbus, run by Debian's /usr/bin/python3) serving the
// points of a spec on a free 127.0.0.1 port (tests/support/pymodbus_server.py
// documents the spec). The process is always stopped when the object goes.
#pragma once

#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace edgemes::test {

// One value the device holds, laid out by pymodbus.
struct device_point {
  std::string table;
  int address;
  std::string type;
  double value;
  std::string word_order = "big";
  std::string byte_order = "big";
};

class modbus_device {
public:
  modbus_device(const temp_dir& dir, std::vector<device_point> points, int max_per_read = 2000,
                int port = 0)
      : dir_(dir), points_(std::move(points)), max_per_read_(max_per_read),
        port_(port ? port : free_port()) {
    nlohmann::json spec{{"points", nlohmann::json::array()}};
    for (const auto& p : points_)
      spec["points"].push_back({{"table", p.table},
                                {"address", p.address},
                                {"type", p.type},
                                {"value", std::isnan(p.value) ? nlohmann::json("nan") : nlohmann::json(p.value)},
                                {"word_order", p.word_order},
                                {"byte_order", p.byte_order}});
    spec_ = dir_.file("modbus-spec-" + std::to_string(port_) + ".json");
    write_file(spec_, spec.dump());
    start();
  }

  int port() const { return port_; }

  void start() {
    log_ = dir_.file("pymodbus-" + std::to_string(port_) + "-" + std::to_string(++starts_) + ".log");
    proc_ = std::make_unique<process>(
        std::vector<std::string>{"/usr/bin/python3", source_path("tests/support/pymodbus_server.py"),
                                 "--port", std::to_string(port_), "--spec", spec_,
                                 "--max-per-read", std::to_string(max_per_read_)},
        log_);
    const bool up = wait_until(
        [&] { return log().find("pymodbus serving on") != std::string::npos || !proc_->running(); },
        std::chrono::seconds(20));
    INFO(log());
    REQUIRE(up);
    REQUIRE(proc_->running());
  }

  // SIGKILL: the device vanishes as a power cut would take it.
  void kill() {
    proc_->signal(SIGKILL);
    proc_->wait(std::chrono::seconds(10));
  }

  std::string log() const { return read_file(log_); }

  // The "read TABLE START COUNT" lines the device logged, one per read it answered.
  std::vector<std::string> reads() const {
    std::vector<std::string> out;
    std::istringstream in(log());
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("read ", 0) == 0)
        out.push_back(line);
    return out;
  }

private:
  const temp_dir& dir_;
  std::vector<device_point> points_;
  int max_per_read_;
  int port_;
  int starts_ = 0;
  std::string spec_;
  std::string log_;
  std::unique_ptr<process> proc_;
};

} // namespace edgemes::test
