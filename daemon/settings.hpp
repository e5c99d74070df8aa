// daemon/settings: a parsed config mapped to each module's settings, one
// function per module and nowhere else (`run` and `backup` both call these).
//
// The defaults are not here: each is declared once, in config/config.hpp or,
// for SQLite's pragmas and the file's layout, in storage/database.hpp; the
// modules' settings structs take theirs from there (docs/CONFIG.md, checked by
// tests/config/config_doc_test.cpp).
#pragma once

#include "actors/poller.hpp"
#include "actors/writer.hpp"
#include "api/server.hpp"
#include "config/config.hpp"
#include "storage/database.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace edgemes::daemon {

// The writer's pragmas (the readers': with read_cache_size_kib as the cache).
storage::options storage_options(const config::database_config& d);
storage::options reader_options(const config::database_config& d);
storage::layout_options layout_options(const config::database_config& d);

actors::writer_settings writer_settings(const config::config& c);

// The poller of machine `index` of `machines` (its first poll is spread over
// one interval, so many machines do not poll in lockstep).
actors::poller_settings poller_settings(const config::config& c, const config::machine_config& m,
                                        size_t index, size_t machines);

// The API's settings; `query_actors` is the resolved worker count (api.query_actors,
// 0 = one per core).
api::server_settings server_settings(const config::config& c, size_t query_actors,
                                     const std::string& version);

// api.query_actors resolved: 0 means one per core.
size_t query_actor_count(const config::config& c);

} // namespace edgemes::daemon
