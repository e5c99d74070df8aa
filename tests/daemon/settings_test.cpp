// daemon/settings maps a parsed config to each module's settings, and nothing
// else does. A config whose every mapped field differs from its default must
// arrive unchanged in the module structs (a field the mapping forgets keeps
// the module default and fails here); an empty config must give exactly the
// module defaults, which are config's (the one home of a default).
#include "daemon/settings.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace edgemes;

namespace {

config::config unusual() {
  config::config c;
  c.site = "plant-7";
  auto& d = c.database;
  d.path = "/var/lib/edgemes/x.db";
  d.synchronous = "FULL";
  d.cache_size_kib = 1234;
  d.read_cache_size_kib = 567;
  d.busy_timeout_ms = 4321;
  d.foreign_keys = false;
  d.wal_autocheckpoint_pages = 77;
  d.journal_size_limit_bytes = 999'999;
  d.wal_max_bytes = 8'888'888;
  d.checkpoint_interval_ms = 12'345;
  d.retention_days = 9;
  d.chunk_window_ms = 600'000;
  d.compaction_grace_ms = 11'000;
  d.head_memory_limit_kib = 777;
  d.status_interval_ms = 13'000;
  c.writer.max_batch = 321;
  c.writer.flush_interval_ms = 222;
  c.api.bind = "0.0.0.0";
  c.api.port = 9999;
  c.api.request_timeout_ms = 1111;
  c.api.max_pending = 7;
  c.api.query_actors = 3;
  c.api.token = "s3cret";
  c.api.tokens.push_back({config::api_role::operate, "/etc/edgemes/ops", "ops", "ops-secret"});
  c.pollers.max_backoff_ms = 45'000;
  c.pollers.offline_after_failures = 5;
  return c;
}

} // namespace

TEST_CASE("every config field reaches the module settings it configures", "[settings]") {
  auto c = unusual();
  auto w = daemon::storage_options(c.database);
  CHECK(w.synchronous == "FULL");
  CHECK(w.cache_size_kib == 1234);
  CHECK(w.busy_timeout_ms == 4321);
  CHECK_FALSE(w.foreign_keys);
  CHECK(w.wal_autocheckpoint_pages == 77);
  CHECK(w.journal_size_limit_bytes == 999'999);

  auto r = daemon::reader_options(c.database);
  CHECK(r.cache_size_kib == 567);  // the readers' own cache
  CHECK(r.busy_timeout_ms == 4321);
  CHECK(r.synchronous == "FULL");

  auto l = daemon::layout_options(c.database);
  CHECK(l.window_ms == 600'000);
  CHECK(l.grace_ms == 11'000);
  CHECK(l.head_limit_bytes == 777 * 1024);
  CHECK(l.status_every_ms == 13'000);

  auto ws = daemon::writer_settings(c);
  CHECK(ws.max_batch == 321);
  CHECK(ws.flush_interval_ms == 222);
  CHECK(ws.wal_restart_bytes == 8'888'888);
  CHECK(ws.checkpoint_interval_ms == 12'345);
  CHECK(ws.retention_ms == 9 * 86'400'000LL);

  config::machine_config m;
  m.id = "oven-3";
  m.poll_interval_ms = 2000;
  auto p = daemon::poller_settings(c, m, 3, 4);
  CHECK(p.ident == "oven-3");
  CHECK(p.interval_ms == 2000);
  CHECK(p.max_backoff_ms == 45'000);
  CHECK(p.offline_after == 5);
  CHECK(p.start_delay_ms == 1500);  // machine 3 of 4 starts 3/4 into the interval

  CHECK(daemon::query_actor_count(c) == 3);
  auto s = daemon::server_settings(c, 3, "1.2.3");
  CHECK(s.site == "plant-7");
  CHECK(s.bind == "0.0.0.0");
  CHECK(s.port == 9999);
  CHECK(s.request_timeout_ms == 1111);
  CHECK(s.db_path == "/var/lib/edgemes/x.db");
  CHECK(s.version == "1.2.3");
  // api.tokens as they are, then the inline api.token with role admin.
  REQUIRE(s.tokens.size() == 2);
  CHECK(s.tokens[0].role == config::api_role::operate);
  CHECK(s.tokens[0].name == "ops");
  CHECK(s.tokens[0].token == "ops-secret");
  CHECK(s.tokens[1].role == config::api_role::admin);
  CHECK(s.tokens[1].name == "api.token");
  CHECK(s.tokens[1].token == "s3cret");
  CHECK(s.http_threads == api::http_threads_for(3, 7));
  CHECK(s.db_options.cache_size_kib == 567);  // the backup reads like a reader
  REQUIRE(s.plant);
  CHECK(s.plant->site == "plant-7");
}

TEST_CASE("a default config gives the modules' own defaults", "[settings]") {
  config::config c;
  auto ws = daemon::writer_settings(c);
  actors::writer_settings wd;
  CHECK(ws.max_batch == wd.max_batch);
  CHECK(ws.flush_interval_ms == wd.flush_interval_ms);
  CHECK(ws.wal_restart_bytes == wd.wal_restart_bytes);
  CHECK(ws.checkpoint_interval_ms == wd.checkpoint_interval_ms);
  CHECK(ws.retention_ms == wd.retention_ms);

  config::machine_config m;
  auto p = daemon::poller_settings(c, m, 0, 1);
  actors::poller_settings pd;
  CHECK(p.interval_ms == pd.interval_ms);
  CHECK(p.max_backoff_ms == pd.max_backoff_ms);  // was 10 000 in the poller, 30 000 in config
  CHECK(p.offline_after == pd.offline_after);

  auto o = daemon::storage_options(c.database);
  storage::options od;
  CHECK(o.synchronous == od.synchronous);
  CHECK(o.cache_size_kib == od.cache_size_kib);
  CHECK(o.busy_timeout_ms == od.busy_timeout_ms);
  CHECK(o.foreign_keys == od.foreign_keys);
  CHECK(o.wal_autocheckpoint_pages == od.wal_autocheckpoint_pages);
  CHECK(o.journal_size_limit_bytes == od.journal_size_limit_bytes);

  auto s = daemon::server_settings(c, 2, "v");
  api::server_settings sd;
  CHECK(s.bind == sd.bind);
  CHECK(s.port == sd.port);
  CHECK(s.request_timeout_ms == sd.request_timeout_ms);
}
