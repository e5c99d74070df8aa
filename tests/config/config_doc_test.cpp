// tests/config/config_doc_test: docs/CONFIG.md's tables are the defaults the
// code has. Every row whose default is a literal (`64000`, `"NORMAL"`, `true`)
// must equal config::to_json(config{})'s value for that key; every key the
// code writes must have its row; and the keys the validator accepts (read from
// its own "unknown key ... (expected one of: ...)" message) are the keys
// to_json writes, so neither list can drift from the other.
#include "config/config.hpp"
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>

namespace config = edgemes::config;
using ojson = nlohmann::ordered_json;

namespace {

// Section -> key -> the default cell's text, for each table row "| `key` | type | default | ...".
using doc_tables = std::map<std::string, std::map<std::string, std::string>>;

// The section a heading opens ("" = top level), or "-" for tables not checked here.
std::string section_of(const std::string& heading) {
  static const std::map<std::string, std::string> known{
      {"## Top level", ""},          {"## `database`", "database"},
      {"## `writer`", "writer"},     {"## `api`", "api"},
      {"## `pollers`", "pollers"},   {"## `lines[].machines[]`", "machine"},
      {"### `source`", "source"},    {"## `mqtt.brokers[]`", "broker"},
      {"### `api.tokens[]`", "token"}};
  auto it = known.find(heading);
  return it == known.end() ? "-" : it->second;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

doc_tables read_doc() {
  doc_tables tables;
  std::istringstream in(edgemes::test::read_file(edgemes::test::source_path("docs/CONFIG.md")));
  std::string line, section = "-";
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      section = section_of(trim(line));
      continue;
    }
    if (section == "-" || line.rfind("| `", 0) != 0)
      continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    std::string cell;
    while (std::getline(row, cell, '|'))
      cells.push_back(trim(cell));
    if (cells.size() < 3)
      continue;
    const std::string key = cells[0].substr(1, cells[0].size() - 2);  // `key`
    tables[section][key] = cells[2];
  }
  return tables;
}

// The code's sections, from to_json of a config with one default machine.
std::map<std::string, ojson> code_sections() {
  config::config c;
  c.lines.push_back({"l1", "l1", {config::machine_config{}}, {}});
  c.mqtt.brokers.push_back(config::mqtt_broker_config{});
  c.api.tokens.push_back(config::api_token_config{});
  ojson all = config::to_json(c);
  std::map<std::string, ojson> out;
  out[""] = all;
  for (const char* s : {"database", "writer", "api", "pollers"})
    out[s] = all[s];
  out["machine"] = all["lines"][0]["machines"][0];
  out["source"] = out["machine"]["source"];
  out["broker"] = all["mqtt"]["brokers"][0];
  out["token"] = all["api"]["tokens"][0];
  out["api"]["tokens"] = ojson::array();  // the entry above is for its own section: config{} has none
  return out;
}

// The keys the validator accepts in a section, from its own message for an unknown key.
std::set<std::string> validator_keys(const std::string& section) {
  const std::string machine = R"({"id": "m1", "type": "aoi", "source": {"adapter": "sim"}})";
  std::string doc;
  if (section.empty())
    doc = R"({"zzz_unknown": 1, "lines": [{"id": "l1", "machines": [)" + machine + "]}]}";
  else if (section == "machine")
    doc = R"({"lines": [{"id": "l1", "machines": [{"id": "m1", "type": "aoi", "zzz_unknown": 1,
              "source": {"adapter": "sim"}}]}]})";
  else if (section == "broker")
    doc = R"({"mqtt": {"brokers": [{"id": "b", "host": "h", "zzz_unknown": 1}]},
              "lines": [{"id": "l1", "machines": [)" + machine + "]}]}";
  else if (section == "token")
    doc = R"({"api": {"tokens": [{"role": "read", "file": "/nonexistent", "zzz_unknown": 1}]},
              "lines": [{"id": "l1", "machines": [)" + machine + "]}]}";
  else if (section == "source")
    doc = R"({"lines": [{"id": "l1", "machines": [{"id": "m1", "type": "aoi",
              "source": {"adapter": "sim", "zzz_unknown": 1}}]}]})";
  else
    doc = R"({")" + section + R"(": {"zzz_unknown": 1}, "lines": [{"id": "l1", "machines": [)" + machine + "]}]}";
  auto r = config::parse(doc);
  std::set<std::string> keys;
  for (const auto& p : r.problems) {
    const auto at = p.message.find("(expected one of: ");
    if (p.message.find("unknown key 'zzz_unknown'") == std::string::npos || at == std::string::npos)
      continue;
    std::istringstream list(p.message.substr(at + 18, p.message.size() - at - 19));
    std::string key;
    while (std::getline(list, key, ','))
      keys.insert(trim(key));
  }
  return keys;
}

std::set<std::string> keys_of(const ojson& object) {
  std::set<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it)
    keys.insert(it.key());
  return keys;
}

} // namespace

TEST_CASE("every literal default in docs/CONFIG.md is the code's default", "[config][docs]") {
  const auto doc = read_doc();
  const auto code = code_sections();
  size_t checked = 0;
  for (const auto& [section, rows] : doc) {
    for (const auto& [key, cell] : rows) {
      INFO("section '" << section << "', key '" << key << "', documented default " << cell);
      REQUIRE(code.at(section).contains(key));
      if (cell.size() < 2 || cell.front() != '`' || cell.back() != '`')
        continue;  // "see below", "**required**", "the id": not a literal
      const ojson documented = ojson::parse(cell.substr(1, cell.size() - 2));
      const ojson& actual = code.at(section)[key];
      INFO("code: " << actual.dump());
      CHECK(documented == actual);
      ++checked;
    }
  }
  CHECK(checked >= 35);
}

TEST_CASE("every key the config accepts has its row in docs/CONFIG.md and is written by to_json",
          "[config][docs]") {
  const auto doc = read_doc();
  const auto code = code_sections();
  for (const char* section : {"", "database", "writer", "api", "pollers", "machine", "source",
                              "broker", "token"}) {
    INFO("section '" << section << "'");
    const auto accepted = validator_keys(section);
    REQUIRE(accepted.size() >= 3);
    CHECK(accepted == keys_of(code.at(section)));
    std::set<std::string> documented;
    for (const auto& row : doc.at(section))
      documented.insert(row.first);
    CHECK(documented == accepted);
  }
}
