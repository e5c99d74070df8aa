// api/endpoints: what each v1 read returns, as functions of one reader.
//
// Each function runs on a query worker's read-only connection (inside a
// read_job) and writes the JSON reply with json_out; parameters arrive
// already validated. The machine reads are in endpoints.cpp, the floor
// dashboard's in floor.cpp.
// Timestamps in replies are epoch milliseconds (null = never).
#pragma once

#include "actors/messages.hpp"
#include "api/params.hpp"
#include "api/shifts.hpp"
#include "config/config.hpp"
#include "storage/reader.hpp"

#include <optional>
#include <string>

namespace edgemes::api::endpoints {

using actors::query_reply;

query_reply lines(storage::reader& db);
query_reply machines(storage::reader& db, const std::optional<std::string>& line);
query_reply machine(storage::reader& db, const std::string& ident);
query_reply samples(storage::reader& db, const std::string& ident, const std::string& metric,
                    time_range range, int64_t limit);
query_reply series(storage::reader& db, const std::string& ident, const std::string& metric,
                   time_range range, int64_t step_ms, storage::aggregate agg);
// `plant` classifies the states in SEMI E10 terms (config::e10_class); a
// machine no longer in the config is classified by the '*' and built-in maps.
query_reply states(storage::reader& db, const config::config& plant, const std::string& ident,
                   time_range range, int64_t now_ms);

// The floor dashboard (docs/API.md, "Floor dashboard"). `plant` is the
// resolved config: it names the configured machines, their order and their
// dashboard settings; the file supplies status, states and values. Each reply
// is one read snapshot. `line` (if any) must name a configured line.
//
// floor: each machine's tile with its key metrics' latest values (index seeks
// only, whatever the history); `shift` is the shift in force at `now_ms`.
// floor_sparklines: each machine's sparkline metric via reader::series, avg.
// REQUIRES: the caller bounded machines x buckets (the work is that product).
// line_summary: per machine the time in state and availability over `range`
// (reader::states) and each counter's first and last value in it; 404
// unknown_line when `line` is not configured.
query_reply floor(storage::reader& db, const config::config& plant,
                  const std::optional<std::string>& line, const shift_window& shift,
                  int64_t now_ms);
query_reply floor_sparklines(storage::reader& db, const config::config& plant,
                             const std::optional<std::string>& line, time_range range,
                             int64_t step_ms);
query_reply line_summary(storage::reader& db, const config::config& plant,
                         const std::string& line, time_range range, int64_t now_ms);

// The configured machine with this id, or null.
const config::machine_config* find_machine(const config::config& plant, const std::string& ident);

// The configured line with this id, or null.
const config::line_config* find_line(const config::config& plant, const std::string& id);

// Machines configured on `line` (all lines when nullopt).
size_t machine_count(const config::config& plant, const std::optional<std::string>& line);

// The default bucket width of /series and /floor/sparklines for a range of `span_ms`.
int64_t default_step_ms(int64_t span_ms);

} // namespace edgemes::api::endpoints
