// daemon/settings: see the header. Each function copies fields, nothing more:
// a rule about a value (a range, a cross-field check) belongs to the config
// validator, a default to config.hpp or storage/database.hpp.
#include "daemon/settings.hpp"

#include "api/admission.hpp"

#include <algorithm>
#include <thread>

namespace edgemes::daemon {

storage::options storage_options(const config::database_config& d) {
  storage::options o;
  o.synchronous = d.synchronous;
  o.cache_size_kib = d.cache_size_kib;
  o.busy_timeout_ms = d.busy_timeout_ms;
  o.foreign_keys = d.foreign_keys;
  o.wal_autocheckpoint_pages = d.wal_autocheckpoint_pages;
  o.journal_size_limit_bytes = d.journal_size_limit_bytes;
  return o;
}

storage::options reader_options(const config::database_config& d) {
  storage::options o = storage_options(d);
  o.cache_size_kib = d.read_cache_size_kib;
  return o;
}

storage::layout_options layout_options(const config::database_config& d) {
  storage::layout_options l;
  l.window_ms = d.chunk_window_ms;
  l.grace_ms = d.compaction_grace_ms;
  l.status_every_ms = d.status_interval_ms;
  l.head_limit_bytes = d.head_memory_limit_kib * 1024;
  return l;
}

actors::writer_settings writer_settings(const config::config& c) {
  actors::writer_settings w;
  w.max_batch = c.writer.max_batch;
  w.flush_interval_ms = c.writer.flush_interval_ms;
  w.wal_restart_bytes = c.database.wal_max_bytes;
  w.checkpoint_interval_ms = c.database.checkpoint_interval_ms;
  w.retention_ms = c.database.retention_days * 86'400'000LL;
  return w;
}

actors::poller_settings poller_settings(const config::config& c, const config::machine_config& m,
                                        size_t index, size_t machines) {
  actors::poller_settings p;
  p.ident = m.id;
  p.interval_ms = m.poll_interval_ms;
  p.max_backoff_ms = c.pollers.max_backoff_ms;
  p.offline_after = c.pollers.offline_after_failures;
  p.start_delay_ms = machines == 0 ? 0
                                   : static_cast<int64_t>(index * static_cast<size_t>(m.poll_interval_ms) /
                                                          machines);
  return p;
}

size_t query_actor_count(const config::config& c) {
  return c.api.query_actors > 0 ? static_cast<size_t>(c.api.query_actors)
                                : std::max(1u, std::thread::hardware_concurrency());
}

api::server_settings server_settings(const config::config& c, size_t query_actors,
                                     const std::string& version) {
  api::server_settings s;
  s.site = c.site;
  s.bind = c.api.bind;
  s.port = static_cast<int>(c.api.port);
  s.request_timeout_ms = c.api.request_timeout_ms;
  s.db_path = c.database.path;
  s.version = version;
  s.http_threads = api::http_threads_for(query_actors, c.api.max_pending);
  s.tokens = c.api.tokens;
  if (!c.api.token.empty())  // the single inline token of old: role admin
    s.tokens.push_back({config::api_role::admin, "", "api.token", c.api.token});
  s.db_options = reader_options(c.database);
  s.plant = std::make_shared<const config::config>(c);
  return s;
}

} // namespace edgemes::daemon
