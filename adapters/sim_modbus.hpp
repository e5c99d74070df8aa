// adapters/sim_modbus: the Modbus register map edgemes-sim serves for each
// simulated machine type (docs/SIMULATOR.md, "Modbus TCP"), and the registers
// of one reply under it. The numbers are those of sim_model's reply document,
// so a machine read over Modbus and over HTTP tells the same story.
//
// Holding registers, every value big-endian (word and byte order "big"):
//   0..1   seq      uint32  replies so far (the reply these registers hold)
//   2..5   ts_ms    int64   wall-clock time of that reply, epoch ms
//   6      state    uint16  1 RUN, 2 IDLE, 3 DOWN, 4 ALARM
//   7..9   reserved (0)
//   10 + 2k         the type's k-th standard metric (catalogue order):
//                   counters uint32, scale 1; other values int32 holding the
//                   value times 10^d (d = the decimals the model rounds it
//                   to), so scale 10^-d gives back exactly the reply's number
// Discrete inputs 0..3: the state is RUN, IDLE, DOWN, ALARM (one bit set).
// (When edgemes-sim takes a new reply for these registers:
// tools/sim/modbus_server.hpp.)
#pragma once

#include "adapters/modbus_map.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace edgemes::adapters {

struct sim_register {
  std::string name;     // "seq", "ts_ms" or the standard metric's name
  std::string pointer;  // where the number is in the reply document
  modbus::point point;  // holding table, big-endian
};

struct sim_modbus_map {
  std::vector<sim_register> values;            // seq, ts_ms, then the standard metrics
  modbus::point state;                         // holding 6, uint16
  std::map<int64_t, std::string> state_codes;  // 1 RUN, 2 IDLE, 3 DOWN, 4 ALARM
  uint16_t holding_registers = 0;              // registers 0 .. this - 1 exist
  static constexpr uint16_t discrete_inputs = 4;
};

// nullptr when `type` is not simulated.
const sim_modbus_map* find_sim_modbus_map(const std::string& type);

// One reply's registers: `holding` gets map.holding_registers words and
// `discrete` map.discrete_inputs bits (0 or 1). A number missing from the
// reply reads 0.
void sim_modbus_registers(const sim_modbus_map& map, const nlohmann::json& reply, uint16_t* holding,
                          uint8_t* discrete);

} // namespace edgemes::adapters
