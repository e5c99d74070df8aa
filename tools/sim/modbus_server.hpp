// tools/sim/modbus_server: the simulated machines over Modbus TCP.
//
// Machine i (0-based, in the order given) is unit 1 + i % 247 on port
// base + i / 247: the protocol numbers at most 247 units behind one address,
// so 1000 machines take 5 ports. Each machine's registers follow its type's
// map (adapters/sim_modbus.hpp) and hold one reply of its model: a read that
// includes the state register (holding 6) takes a new reply, any other read
// answers from the last one — so a poll that reads the map in several
// requests sees one consistent reply, as from a PLC's snapshot, and a tool
// reading a single value does not advance the model. Read-only: function codes 1-4; others answer Illegal function. A
// unit with no machine answers exception 11 (gateway target failed to respond).
// Fault modes: http500 answers exception 4 (server failure), flap alternates that
// with good replies, slow never answers, reset closes the connection; the
// modes that shape JSON do not apply.
//
// One thread serves every connection with epoll. Requests are framed here
// (MBAP header, then the PDU) and answered by libmodbus's server side
// (modbus_reply over a per-machine modbus_mapping_t, modbus_reply_exception):
// libmodbus's own receive path waits with select(), which glibc aborts on a
// descriptor of 1024 or more — about where a simulator holding 1000 connections ends.
#pragma once

#include "tools/sim/server.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgemes::sim {

constexpr int kUnitsPerPort = 247;

class modbus_server {
public:
  explicit modbus_server(server& machines);
  ~modbus_server();
  modbus_server(const modbus_server&) = delete;
  modbus_server& operator=(const modbus_server&) = delete;

  // Listens on one port per 247 machines: base, base + 1, ... (base 0 = any
  // free port for each). Returns the ports, or an empty list and *error.
  std::vector<int> bind(const std::string& host, int base, std::string* error);
  // Serves until stop(); returns false if serving failed.
  bool run();
  // From any thread: run() returns soon after.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace edgemes::sim
