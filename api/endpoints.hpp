// api/endpoints: what each v1 read returns, as functions of one reader.
//
// Each function runs on a query worker's read-only connection (inside a
// read_job) and renders the JSON reply; parameters arrive already validated.
// Timestamps in replies are epoch milliseconds (null = never).
#pragma once

#include "actors/messages.hpp"
#include "api/params.hpp"
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
query_reply states(storage::reader& db, const std::string& ident, time_range range,
                   int64_t now_ms);

} // namespace edgemes::api::endpoints
