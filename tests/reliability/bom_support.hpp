// tests/reliability/bom_support: the daemon config the BOM reliability tests
// (bom_kill_test, bom_disk_full_test) share — one line with one in-process
// sim placer, the MES tests' bearer token, the database at `db_path`.
#pragma once

#include "tests/e2e/mes_support.hpp"
#include "tests/reliability/rel_support.hpp"

#include <string>

namespace edgemes::test::rel {

inline std::string bom_config(const temp_dir& dir, int port, const std::string& site,
                              const std::string& db_path, int poll_interval_ms) {
  nlohmann::json cfg = {
      {"site", site},
      {"database", {{"path", db_path}}},
      {"writer", {{"flush_interval_ms", 50}}},
      {"api", {{"bind", "127.0.0.1"}, {"port", port}, {"query_actors", 2},
               {"token", mes::token}}},
      {"lines", {{{"id", "l1"}, {"machines", {sim_machine("p1", "placer", poll_interval_ms)}}}}}};
  auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}

} // namespace edgemes::test::rel
