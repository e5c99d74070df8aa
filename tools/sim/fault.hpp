// tools/sim/fault: the ways a simulated machine can misbehave over HTTP, and
// the reply mutations two of them make. See docs/SIMULATOR.md for what each
// mode promises a client.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace edgemes::sim {

enum class fault {
  none,            // valid reply
  slow,            // valid reply after --slow-ms (longer than any sane poll timeout)
  http500,         // HTTP 500 with a short JSON error body
  broken_json,     // status 200, body cut off half-way
  reset,           // status line and headers, then the connection closes mid-body
  missing_fields,  // valid JSON without some standard metric fields
  huge,            // valid JSON of about 12 MiB
  wrong_type,      // some standard metric numbers sent as strings
  flap,            // alternates: valid reply, HTTP 500, valid reply, ...
  down,            // valid reply whose state is DOWN (the model runs on underneath)
};

std::optional<fault> parse_fault(const std::string& name);
const char* fault_name(fault f);
const char* fault_names();  // "none, slow, ..." for help and error texts

// The standard metrics of `type` that missing_fields drops and wrong_type
// turns into strings: every second one whose pointer has no array index.
void drop_some_fields(nlohmann::json& doc, const std::string& type);
void stringify_some_fields(nlohmann::json& doc, const std::string& type);

// What `mode` makes of a valid reply's state: `down` reports DOWN, any other
// mode leaves the model's state.
void shape_state(nlohmann::json& doc, fault mode);

} // namespace edgemes::sim
