// Faults from machines (docs/RELIABILITY.md, "Faults from machines"): one
// edgemes-sim machine per fault mode, switched on at runtime, next to healthy
// machines polled over HTTP by a real daemon. The healthy ones keep their
// poll rate, each faulty one shows the right status and error text, memory
// stays flat, nothing crashes, and a machine that fails fast and comes back is
// online again within about one interval.
#include "tests/faults/faults_support.hpp"

#include <csignal>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::faults;

namespace {

constexpr int64_t interval_ms = 200;
constexpr int64_t timeout_ms = 300;
constexpr int64_t flush_ms = 50;

const std::vector<std::string> healthy{"ok1", "ok2", "ok3", "ok4"};

struct fault {
  std::string machine;
  std::string mode;
  std::string status;  // expected while faulty
  std::string error;   // fragment of last_error ("" = see the check below)
};

const std::vector<fault> fault_table{
    {"f-slow", "slow", "offline", "timeout after 300 ms"},
    {"f-http500", "http500", "offline", "HTTP 500"},
    {"f-json", "broken_json", "offline", "reply is not JSON"},
    {"f-reset", "reset", "offline", "closed before a complete reply"},
    {"f-huge", "huge", "offline", "reply larger than 1048576 bytes"},
    {"f-wrongtype", "wrong_type", "online", "is a string, not a number"},
    {"f-flap", "flap", "online", ""},
};

struct rate_window {
  std::map<std::string, int64_t> ok_before;
  std::chrono::steady_clock::time_point t0;
};

rate_window start_window(int port) {
  rate_window w;
  for (auto& [id, m] : machines_by_id(port))
    w.ok_before[id] = m["polls"]["ok"].get<int64_t>();
  w.t0 = std::chrono::steady_clock::now();
  return w;
}

// Polls per second of each healthy machine since the window began, as a
// fraction of the nominal 1000 / interval_ms.
std::map<std::string, double> share_of_nominal(int port, const rate_window& w) {
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - w.t0).count();
  auto now = machines_by_id(port);
  std::map<std::string, double> out;
  for (const auto& id : healthy) {
    double polls = static_cast<double>(now[id]["polls"]["ok"].get<int64_t>() - w.ok_before.at(id));
    out[id] = polls / secs / (1000.0 / interval_ms);
  }
  return out;
}

void set_fault(int sim_port, const std::string& machine, const std::string& mode) {
  auto r = http_request(sim_port, "POST", "/machines/" + machine + "/fault?mode=" + mode, "");
  REQUIRE(r.status == 200);
}

} // namespace

TEST_CASE("faulty machines never slow the healthy ones, show their error, and come back at once",
          "[faults]") {
  temp_dir dir;
  int sim_port = free_port();
  int api_port = free_port();

  json machines = json::array();
  for (const auto& id : healthy)
    machines.push_back(http_placer(id, sim_port, interval_ms, timeout_ms));
  // The huge reply is cut at 1 MiB, which takes a few ms on a quiet box; its
  // generous timeout keeps a loaded one (CI) from reporting a timeout instead.
  for (const auto& f : fault_table)
    machines.push_back(http_placer(f.machine, sim_port, interval_ms,
                                   f.mode == "huge" ? 5000 : timeout_ms));
  json cfg = {{"site", "faults"},
              {"database", {{"path", dir.file("faults.db")}}},
              {"writer", {{"flush_interval_ms", flush_ms}}},
              {"api", {{"port", api_port}, {"query_actors", 2}}},
              {"pollers", {{"max_backoff_ms", 4000}, {"offline_after_failures", 3}}},
              {"lines", {{{"id", "l1"}, {"machines", machines}}}}};
  auto cfg_path = dir.file("faults.json");
  write_file(cfg_path, cfg.dump(2));

  auto sim = start_sim(dir, sim_port, cfg_path, {"--slow-ms", "3000"});
  auto daemon = start_daemon(dir, api_port, cfg_path);
  REQUIRE(wait_until(
      [&] {
        auto ms = machines_by_id(api_port);
        if (ms.size() != healthy.size() + fault_table.size())
          return false;
        for (auto& [id, m] : ms)
          if (m["status"] != "online")
            return false;
        return true;
      },
      std::chrono::seconds(15)));

  // Without faults: the healthy machines' poll rate.
  auto base = start_window(api_port);
  std::this_thread::sleep_for(std::chrono::seconds(4));  // a measurement window, not a wait
  auto rate_without = share_of_nominal(api_port, base);

  // With faults: the same machines, memory sampled throughout.
  for (const auto& f : fault_table)
    set_fault(sim_port, f.machine, f.mode);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // every fault has hit at least 3 polls
  auto faulty = start_window(api_port);
  std::vector<int64_t> rss;
  for (int i = 0; i < 32; ++i) {  // 8 s
    rss.push_back(vm_rss_kib(daemon->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto rate_with = share_of_nominal(api_port, faulty);

  for (const auto& id : healthy) {
    INFO(id << ": " << rate_without[id] * 100 << "% of nominal without faults, "
            << rate_with[id] * 100 << "% with");
    CHECK(rate_without[id] >= 0.8);
    CHECK(rate_with[id] >= 0.8);
  }
  WARN("poll rate of healthy machines (share of nominal " << 1000 / interval_ms
       << "/s): without faults " << rate_without["ok1"] << ", " << rate_without["ok2"] << ", "
       << rate_without["ok3"] << ", " << rate_without["ok4"] << "; with faults "
       << rate_with["ok1"] << ", " << rate_with["ok2"] << ", " << rate_with["ok3"] << ", "
       << rate_with["ok4"]);

  // Memory: the second half of the run holds no more than the first half's peak + 8 MiB.
  REQUIRE(rss.size() == 32);
  int64_t first_peak = *std::max_element(rss.begin(), rss.begin() + 16);
  int64_t second_peak = *std::max_element(rss.begin() + 16, rss.end());
  WARN("daemon VmRSS during faults: first half peak " << first_peak << " KiB, second half peak "
       << second_peak << " KiB");
  CHECK(second_peak <= first_peak + 8 * 1024);

  auto now = machines_by_id(api_port);
  for (const auto& f : fault_table) {
    auto& m = now[f.machine];
    INFO(f.machine << " (" << f.mode << "): " << m.dump());
    CHECK(m["status"] == f.status);
    if (f.mode == "flap") {
      CHECK(m["polls"]["failed"].get<int64_t>() > 0);
      CHECK(m["polls"]["ok"].get<int64_t>() > faulty.ok_before[f.machine]);
    } else if (f.mode == "wrong_type") {
      CHECK(m["polls"]["problems"].get<int64_t>() > 0);
      CHECK(m["last_error"].get<std::string>().find(f.error) != std::string::npos);
    } else {
      REQUIRE(m["last_error"].is_string());
      CHECK(m["last_error"].get<std::string>().find(f.error) != std::string::npos);
    }
  }
  CHECK(get_json(api_port, "/api/v1/health")["status"] == "ok");

  // Recovery: machines that failed fast are polled at the plain interval, so
  // they are online again within one interval (+ one writer flush to show it).
  std::vector<std::string> fast{"f-http500", "f-json", "f-reset"};
  for (const auto& id : fast)
    set_fault(sim_port, id, "none");
  auto cleared = std::chrono::steady_clock::now();
  std::map<std::string, int64_t> back_ms;
  wait_until(
      [&] {
        auto ms = machines_by_id(api_port);
        auto t = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - cleared).count();
        for (const auto& id : fast)
          if (!back_ms.count(id) && ms[id]["status"] == "online")
            back_ms[id] = t;
        return back_ms.size() == fast.size();
      },
      std::chrono::seconds(10));
  for (const auto& id : fast) {
    INFO(id << " online again after " << (back_ms.count(id) ? back_ms[id] : -1) << " ms");
    REQUIRE(back_ms.count(id));
    // one interval + one flush + slack for a loaded machine; the old
    // exponential backoff needed up to max_backoff_ms (4000 here)
    CHECK(back_ms[id] <= interval_ms + flush_ms + 1000);
  }
  WARN("back online after the fault cleared: f-http500 " << back_ms["f-http500"] << " ms, f-json "
       << back_ms["f-json"] << " ms, f-reset " << back_ms["f-reset"] << " ms");

  // Slow and huge ones come back too, within their (capped) backoff.
  for (const auto& id : {"f-slow", "f-huge"})
    set_fault(sim_port, id, "none");
  bool slow_back = wait_until(
      [&] {
        auto ms = machines_by_id(api_port);
        return ms["f-slow"]["status"] == "online" && ms["f-huge"]["status"] == "online";
      },
      std::chrono::seconds(15));
  CHECK(slow_back);

  daemon->signal(SIGTERM);
  int code = daemon->wait(std::chrono::seconds(20));
  INFO(daemon->log());
  CHECK(code == 0);
}
