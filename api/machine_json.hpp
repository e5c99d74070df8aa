// api/machine_json: reply fragments shared by the machine and floor endpoints,
// so /machines, /machines/{id}, /states and the floor describe a machine alike.
#pragma once

#include "api/json_out.hpp"
#include "storage/reader.hpp"

#include <vector>

namespace edgemes::api {

// Who a machine is: the first members of every machine object.
inline void identity_fields(json_out& w, const storage::machine_info& m) {
  w.key("id").value(m.ident);
  w.key("name").value(m.name);
  w.key("line").value(m.line_ident);
  w.key("type").value(m.type);
}

// How its polling goes.
inline void status_fields(json_out& w, const storage::machine_info& m) {
  w.key("status").value(m.status);
  w.key("state").text_or_null(m.state);
  w.key("state_since").ms_or_null(m.state_since_ms);
  w.key("last_poll").ms_or_null(m.last_poll_ms);
  w.key("last_ok").ms_or_null(m.last_ok_ms);
  w.key("last_error").text_or_null(m.last_error);
  w.key("polls").begin_object();
  w.key("ok").value(m.polls_ok);
  w.key("failed").value(m.polls_failed);
  w.key("problems").value(m.poll_problems);
  w.key("missed").value(m.polls_missed);
  w.end_object();
}

// A state report's time in each state, largest first: /states and the line summary.
inline void state_shares(json_out& w, const std::vector<storage::state_share>& shares) {
  w.begin_array();
  for (const auto& s : shares) {
    w.begin_object();
    w.key("state").value(s.state);
    w.key("ms").value(s.ms);
    w.key("share").value(s.share);
    w.end_object();
  }
  w.end_array();
}

} // namespace edgemes::api
