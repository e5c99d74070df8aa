// adapters/modbus_tcp: polls a Modbus TCP device's registers.
//
// A poll reads the register map (modbus_map.hpp) in as few requests as
// plan_reads allows, in order, over one TCP connection that stays open
// across polls. Any failure other than a Modbus exception closes the
// connection (a late reply would otherwise answer the next request); the next
// poll connects again. An exception reply leaves the stream in step, so the
// connection stays.
//
// Error texts (reading::error), each a failed poll:
//   "timeout after N ms"                    connect or any reply not within the
//                                           poll's deadline (the poller's slow failure)
//   "connection refused: host:port"         nothing listens there
//   "cannot connect to host:port: <why>"    unreachable, unresolvable ...
//   "connection to host:port closed by the device" / "... lost: <why>"
//   "holding 100..109: Illegal data address (exception 2)"
//                                           a Modbus exception, named as libmodbus
//                                           names it, with the request's registers
//   "holding 100..109: malformed reply: ..." a reply that breaks the protocol
// A value that decodes to NaN or infinity is missing (NaN) with a problem; a
// state code the map lacks gives the state text "code N" and a problem.
//
// The deadline (timeout_ms) covers the whole poll: connecting, and every
// request and reply, each wait bounded by what is left of it. The transport
// is this file's own (MBAP framing over a non-blocking socket with poll()),
// not libmodbus's client: libmodbus waits with select(), and glibc aborts the
// process when a socket's descriptor is 1024 or more — and a daemon polling
// 1000 devices over kept-open connections already uses ~1013 (docs/ADAPTERS.md).
#pragma once

#include "adapters/adapter.hpp"
#include "adapters/modbus_map.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgemes::adapters {

// Defaults are config's (config::source_config), their one home.
struct modbus_tcp_settings {
  std::string host;                // name or address
  int port = 0;                    // 1..65535
  int unit_id = 0;                 // 0..255, the MBAP unit identifier
  int64_t timeout_ms = 0;          // whole-poll deadline, > 0
  int max_registers_per_read = 0;  // 1..125
  int max_gap = 0;                 // >= 0
};

// The machine's state: an integer register and the text of each code.
struct modbus_state {
  modbus::point point;
  std::map<int64_t, std::string> texts;
};

// Returns nullptr and sets *error when the settings or the map are unusable
// (the same rules check-config applies). Opens no connection.
std::unique_ptr<source> make_modbus_tcp(const modbus_tcp_settings& settings,
                                        std::vector<std::pair<std::string, modbus::point>> metrics,
                                        std::optional<modbus_state> state, std::string* error);

} // namespace edgemes::adapters
