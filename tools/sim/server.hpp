// tools/sim/server: simulated machines behind one HTTP server.
//
// Owns one sim_machine per id, each with its own mutex, fault mode and
// "served" log: the seq numbers of replies that went out whole, with status
// 200 and valid JSON. A seq is logged only after the last byte was handed to
// the socket (the response's releaser reports success), so a reply that was
// cut off, refused or never finished writing is not in the log. Slow replies
// are never logged: by design they arrive after the client has given up.
//
// Routes (see docs/SIMULATOR.md):
//   GET  /machines                    ids, types, faults
//   GET  /machines/{id}/status        the model's reply (advances seq), shaped by the fault
//   GET  /machines/{id}/served        {"machine": id, "seqs": [...]}
//   POST|PUT /machines/{id}/fault?mode=M
//   GET  /machines/{id}/metrics       Prometheus text of a fresh reply (advances seq, no fault, not logged as served)
//   GET  /metrics                     Prometheus text of every machine's last reply
#pragma once

#include "adapters/sim_model.hpp"
#include "net/listen_socket.hpp"
#include "tools/sim/fault.hpp"

#include <httplib.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace edgemes::sim {

struct machine_spec {
  std::string id;
  std::string type;
  fault mode = fault::none;
};

class server {
public:
  // keep_alive_s: idle keep-alive timeout; 0 closes each connection after one reply.
  server(const std::vector<machine_spec>& machines, uint64_t seed, int64_t slow_ms, size_t threads,
         long keep_alive_s = 5);

  // Binds `host:port` (port 0 = any free port); returns the port, or -1.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns false if serving failed.
  bool listen();
  // Wakes slow replies, stops accepting and lets running requests finish.
  void stop();

  // For the Modbus front (modbus_server.hpp), which numbers the machines in
  // the order given. Thread-safe.
  size_t machine_count() const { return order_.size(); }
  const std::string& machine_type(size_t index) const;
  // Machine `index`'s reply for a Modbus read: a new one from its model when
  // `fresh` (counted in requests_total and kept as /metrics's last reply),
  // else the last one (a new one if it has none). `mode` gets its fault
  // mode, and `failing` whether this read fails: always for http500, every
  // second fresh read for flap.
  nlohmann::json modbus_reply(size_t index, bool fresh, fault& mode, bool& failing);

private:
  struct machine {
    machine(const machine_spec& spec, uint64_t seed)
        : model(spec.id, spec.type, seed), mode(spec.mode) {}
    std::mutex mtx;  // guards everything below
    adapters::sim_machine model;
    fault mode;
    uint64_t flap_count = 0;
    uint64_t requests = 0;
    std::vector<uint64_t> served;
    nlohmann::json last;  // last model reply before any fault shaped it
  };

  void routes();
  machine* find(const std::string& id);
  void status(machine& m, httplib::Response& res);
  void send_json(machine& m, uint64_t seq, std::string body, httplib::Response& res);
  bool sleep_unless_stopped(int64_t ms);
  struct sample {
    std::string labels;
    double value;
  };
  using families = std::map<std::string, std::vector<sample>>;  // sorted by metric name

  std::string prometheus();
  std::string machine_metrics(machine& m);
  void add_families(const std::string& id, const nlohmann::json& last, bool with_counts,
                    uint64_t requests, uint64_t served, families& out);
  static std::string exposition(const families& families);

  httplib::Server http_;
  net::listen_socket listen_;
  std::map<std::string, std::unique_ptr<machine>> machines_;  // fixed after construction
  std::vector<std::string> order_;                             // ids in the order given
  int64_t slow_ms_;

  std::mutex stop_mtx_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

} // namespace edgemes::sim
