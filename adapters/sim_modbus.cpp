// adapters/sim_modbus: see the header. The decimals below are those the
// models in sim_types.cpp round each value to; tests/adapters/sim_modbus_test
// reads every type's registers back and compares them with the reply, so a
// model that starts printing more decimals fails there, not silently here.
#include "adapters/sim_modbus.hpp"

#include "adapters/sim_model.hpp"

#include <cmath>

namespace edgemes::adapters {

namespace {

namespace mb = modbus;

// Decimals per standard metric that is not a counter; absent = a counter.
const std::map<std::string, int>& decimals() {
  static const std::map<std::string, int> d = [] {
    std::map<std::string, int> out{{"cycle_time_s", 2},       {"nozzle_vacuum_kpa", 1},
                                   {"head_temp_c", 1},        {"squeegee_pressure_kg", 2},
                                   {"print_speed_mm_s", 1},   {"paste_height_um", 1},
                                   {"conveyor_mm_s", 2},      {"o2_ppm", 0},
                                   {"first_pass_yield", 4},   {"camera_temp_c", 1}};
    for (int zone = 1; zone <= 8; ++zone)
      out["zone" + std::to_string(zone) + "_c"] = 1;
    return out;
  }();
  return d;
}

mb::point holding(uint16_t address, mb::value_type type, double scale = 1) {
  mb::point p;
  p.tbl = mb::table::holding;
  p.address = address;
  p.type = type;
  p.scale = scale;
  return p;
}

sim_modbus_map make_map(const sim_type_info& type) {
  sim_modbus_map map;
  map.values.push_back({"seq", "/seq", holding(0, mb::value_type::uint32)});
  map.values.push_back({"ts_ms", "/ts_ms", holding(2, mb::value_type::int64)});
  map.state = holding(6, mb::value_type::uint16);
  map.state_codes = {{1, "RUN"}, {2, "IDLE"}, {3, "DOWN"}, {4, "ALARM"}};
  uint16_t address = 10;
  for (const auto& [name, pointer] : type.metrics) {
    auto d = decimals().find(name);
    if (d == decimals().end())
      map.values.push_back({name, pointer, holding(address, mb::value_type::uint32)});
    else
      map.values.push_back(
          {name, pointer, holding(address, mb::value_type::int32, std::pow(10.0, -d->second))});
    address = static_cast<uint16_t>(address + 2);
  }
  map.holding_registers = address;
  return map;
}

} // namespace

const sim_modbus_map* find_sim_modbus_map(const std::string& type) {
  static const std::map<std::string, sim_modbus_map> maps = [] {
    std::map<std::string, sim_modbus_map> out;
    for (const auto& t : sim_catalogue())
      out.emplace(t.name, make_map(t));
    return out;
  }();
  auto it = maps.find(type);
  return it == maps.end() ? nullptr : &it->second;
}

void sim_modbus_registers(const sim_modbus_map& map, const nlohmann::json& reply, uint16_t* holding,
                          uint8_t* discrete) {
  for (uint16_t i = 0; i < map.holding_registers; ++i)
    holding[i] = 0;
  for (const auto& r : map.values) {
    const nlohmann::json::json_pointer at(r.pointer);
    double v = 0;
    if (reply.contains(at) && reply.at(at).is_number())
      v = reply.at(at).get<double>();
    // The inverse of point::apply: the whole number the scale divides.
    const double raw = r.point.scale == 1 ? v : std::round(v * std::round(1.0 / r.point.scale));
    mb::encode(raw, r.point.type, r.point.word_order, r.point.byte_order, holding + r.point.address);
  }
  const std::string state = reply.value("state", std::string());
  int64_t code = 0;
  for (const auto& [c, text] : map.state_codes)
    if (text == state)
      code = c;
  holding[map.state.address] = static_cast<uint16_t>(code);
  for (uint16_t i = 0; i < sim_modbus_map::discrete_inputs; ++i)
    discrete[i] = code == i + 1 ? 1 : 0;
}

} // namespace edgemes::adapters
