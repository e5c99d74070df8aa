// libFuzzer target: a modbus_tcp machine's register map, from the config text
// through the read planner to the decoder. The input is one machine object
// (`{"id": ..., "source": {"adapter": "modbus_tcp", ...}, "metrics": {...},
// "state": {...}}`), then optionally a 0 byte and register contents. Parsing
// must never crash or accept without problems-free output; a map the config
// accepts must plan into requests that respect the limits and cover every
// value's registers at the slots the plan names, and any register contents
// must decode without crashing.
#include "adapters/modbus_map.hpp"
#include "config/config.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace mb = edgemes::adapters::modbus;

namespace {

mb::point to_point(const edgemes::config::register_config& r) {
  auto tbl = mb::parse_table(r.table);
  auto type = mb::parse_type(r.type);
  auto word = mb::parse_order(r.word_order);
  auto byte = mb::parse_order(r.byte_order);
  if (!tbl || !type || !word || !byte || r.address < 0 || r.address > 65535)
    std::abort();  // the config accepted a register the adapter cannot read
  return {*tbl, static_cast<uint16_t>(r.address), *type, *word, *byte, r.scale, r.offset};
}

void check_plan(const std::vector<mb::point>& points, const mb::read_plan& plan, int max_registers) {
  const int bit_limit = mb::max_bits_per_read(max_registers);
  for (const auto& g : plan.groups) {
    const int limit = mb::is_bit_table(g.tbl) ? bit_limit : max_registers;
    if (g.count < 1 || g.count > limit || g.slot + g.count > plan.slots ||
        int64_t{g.start} + g.count > 65536)
      std::abort();
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    for (int k = 0; k < mb::width(p.type); ++k) {
      const int64_t address = int64_t{p.address} + k;
      bool covered = false;
      for (const auto& g : plan.groups)
        if (g.tbl == p.tbl && g.start <= address && address < int64_t{g.start} + g.count &&
            g.slot + static_cast<size_t>(address - g.start) == plan.slot_of[i] + static_cast<size_t>(k))
          covered = true;
      if (!covered)
        std::abort();
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* zero = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t text_size = zero ? static_cast<size_t>(zero - data) : size;
  const std::string machine(reinterpret_cast<const char*>(data), text_size);
  std::vector<uint16_t> contents;
  for (size_t i = text_size + 1; i + 1 < size; i += 2)
    contents.push_back(static_cast<uint16_t>((data[i] << 8) | data[i + 1]));

  const auto result = edgemes::config::parse(R"({"lines": [{"id": "l", "machines": [)" + machine + "]}]}",
                                             "fuzz.json");
  if (!result.ok()) {
    for (const auto& p : result.problems)
      if (p.message.empty())
        std::abort();
    return 0;
  }
  for (const auto& line : result.value.lines)
    for (const auto& m : line.machines) {
      if (m.source.adapter != "modbus_tcp")
        continue;
      if (m.registers.metrics.size() != m.metrics.size())
        std::abort();
      std::vector<mb::point> points;
      for (const auto& r : m.registers.metrics)
        points.push_back(to_point(r));
      if (m.registers.has_state)
        points.push_back(to_point(m.registers.state));
      for (const auto& p : points)
        if (!mb::placement_problem(p.tbl, p.address, p.type).empty())
          std::abort();
      if (!mb::overlaps(points).empty())
        std::abort();
      const int max_registers = static_cast<int>(m.source.max_registers_per_read);
      const auto plan = mb::plan_reads(points, max_registers, static_cast<int>(m.source.max_gap));
      check_plan(points, plan, max_registers);
      std::vector<uint16_t> buffer(plan.slots, 0);
      for (size_t i = 0; i < buffer.size() && i < contents.size(); ++i)
        buffer[i] = contents[i];
      for (size_t i = 0; i < points.size(); ++i) {
        const auto& p = points[i];
        const double raw = mb::decode(buffer.data() + plan.slot_of[i], p.type, p.word_order, p.byte_order);
        volatile double value = p.apply(raw);
        (void)value;
      }
    }
  return 0;
}
