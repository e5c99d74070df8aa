#include "tools/sim/fault.hpp"

#include "adapters/sim_model.hpp"

#include <array>
#include <utility>
#include <vector>

namespace edgemes::sim {

namespace {

constexpr std::array<std::pair<fault, const char*>, 10> names{{
    {fault::none, "none"},
    {fault::slow, "slow"},
    {fault::http500, "http500"},
    {fault::broken_json, "broken_json"},
    {fault::reset, "reset"},
    {fault::missing_fields, "missing_fields"},
    {fault::huge, "huge"},
    {fault::wrong_type, "wrong_type"},
    {fault::flap, "flap"},
    {fault::down, "down"},
}};

bool has_array_index(const std::string& pointer) {
  size_t start = 0;
  while (start < pointer.size()) {
    size_t end = pointer.find('/', start + 1);
    std::string token = pointer.substr(start + 1, end == std::string::npos ? end : end - start - 1);
    if (!token.empty() && token.find_first_not_of("0123456789") == std::string::npos)
      return true;
    if (end == std::string::npos)
      break;
    start = end;
  }
  return false;
}

std::vector<nlohmann::json::json_pointer> victims(const std::string& type) {
  std::vector<nlohmann::json::json_pointer> plain;
  for (const auto& [name, pointer] : adapters::sim_standard_metrics(type))
    if (!has_array_index(pointer))
      plain.emplace_back(pointer);
  std::vector<nlohmann::json::json_pointer> out;
  for (size_t i = 0; i < plain.size(); i += 2)
    out.push_back(plain[i]);
  return out;
}

} // namespace

std::optional<fault> parse_fault(const std::string& name) {
  for (const auto& [f, n] : names)
    if (name == n)
      return f;
  return std::nullopt;
}

const char* fault_name(fault f) {
  for (const auto& [g, n] : names)
    if (f == g)
      return n;
  return "none";
}

const char* fault_names() {
  return "none, slow, http500, broken_json, reset, missing_fields, huge, wrong_type, flap, down";
}

void drop_some_fields(nlohmann::json& doc, const std::string& type) {
  for (const auto& p : victims(type))
    if (doc.contains(p))
      doc.at(p.parent_pointer()).erase(p.back());
}

void stringify_some_fields(nlohmann::json& doc, const std::string& type) {
  for (const auto& p : victims(type))
    if (doc.contains(p))
      doc.at(p) = doc.at(p).dump();
}

void shape_state(nlohmann::json& doc, fault mode) {
  if (mode == fault::down)
    doc["state"] = "DOWN";
}

} // namespace edgemes::sim
