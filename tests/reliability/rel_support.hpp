// tests/reliability: helpers for the crash, WAL, retention, overload and
// disk-full tests — config building, read-only looks into the live file (a
// read-only connection never checkpoints, so it cannot disturb the daemon),
// and /proc readings of the daemon process.
#pragma once

#include "tests/e2e/e2e_support.hpp"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <sys/mount.h>

namespace edgemes::test::rel {

using nlohmann::json;

using test::ro_db;

inline int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// VmRSS of a process in KiB (0 when gone).
inline int64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      int64_t kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

inline json sim_machine(const std::string& id, const std::string& type, int interval_ms) {
  return {{"id", id},
          {"type", type},
          {"poll_interval_ms", interval_ms},
          {"source", {{"adapter", "sim"}}}};
}

// An http_json machine of edgemes-sim storing its reply's seq (and one metric).
inline json http_machine(const std::string& id, int sim_port, int interval_ms,
                         int timeout_ms = 1000) {
  return {{"id", id},
          {"type", "placer"},
          {"poll_interval_ms", interval_ms},
          {"source",
           {{"adapter", "http_json"},
            {"url", "http://127.0.0.1:" + std::to_string(sim_port) + "/machines/" + id +
                        "/status"},
            {"timeout_ms", timeout_ms}}},
          {"metrics", {{"seq", "/seq"}, {"cycle_time_s", "/cycle_time_s"}}},
          {"state", "/state"}};
}

// `n` sim machines named s0001.. cycling through the four types.
inline json sim_machines(int n, int interval_ms) {
  static const char* types[] = {"placer", "printer", "reflow", "aoi"};
  json out = json::array();
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "s%04d", i + 1);
    out.push_back(sim_machine(id, types[i % 4], interval_ms));
  }
  return out;
}

// A whole config: one line holding `machines`; `database` / `writer` merged over defaults.
inline std::string write_config(const temp_dir& dir, int api_port, const std::string& db_path,
                                const json& machines, const json& database = json::object(),
                                const json& writer = json::object()) {
  json db = {{"path", db_path}};
  db.update(database);
  json w = {{"max_batch", 2000}, {"flush_interval_ms", 50}, {"max_queue", 200000}};
  w.update(writer);
  json cfg = {{"site", "reliability"},
              {"database", db},
              {"writer", w},
              {"api", {{"bind", "127.0.0.1"}, {"port", api_port}, {"query_actors", 2}}},
              {"lines", {{{"id", "l1"}, {"machines", machines}}}}};
  auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}

inline json health(int port) { return get_json(port, "/api/v1/health"); }

// Seqs stored for an http machine (metric "seq" in slot order of its config).
inline std::vector<int64_t> stored_seqs(ro_db& db, const std::string& machine) {
  std::vector<int64_t> out;
  for (auto& r : db.rows("SELECT value FROM samples WHERE machine='" + machine +
                         "' AND metric='seq' ORDER BY ts"))
    out.push_back(std::stoll(r.at(0)));
  return out;
}

// Seqs edgemes-sim sent whole to the daemon for `machine`.
inline std::set<int64_t> served_seqs(int sim_port, const std::string& machine) {
  auto j = get_json(sim_port, "/machines/" + machine + "/served");
  REQUIRE(j.is_object());
  std::set<int64_t> out;
  for (auto& s : j.at("seqs"))
    out.insert(s.get<int64_t>());
  return out;
}

// A tmpfs of `size` mounted at `dir`, unmounted (lazily) on destruction.
// Mounting needs root: mounted() is false elsewhere, and a test using it says
// so and does nothing.
class tmpfs_mount {
public:
  tmpfs_mount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::string opts = "size=" + size;
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~tmpfs_mount() {
    if (mounted_)
      ::umount2(dir_.c_str(), MNT_DETACH);
  }
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;
  bool mounted() const { return mounted_; }

private:
  std::string dir_;
  bool mounted_ = false;
};

// Writes `path` until the file system is full; returns the bytes written.
inline int64_t fill(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  std::vector<char> block(64 << 10, 'x');
  int64_t n = 0;
  while (true) {
    size_t w = std::fwrite(block.data(), 1, block.size(), f);
    n += static_cast<int64_t>(w);
    if (w < block.size() || std::fflush(f) != 0)
      break;
  }
  std::fclose(f);
  return n;
}

} // namespace edgemes::test::rel
