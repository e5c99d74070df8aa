// tests/actors: an actor system with a real writer actor on a real file.
#pragma once

#include "storage/head.hpp"
#include "actors/ingest.hpp"
#include "actors/writer.hpp"
#include "tests/storage/fixture.hpp"

#include <caf/all.hpp>

#include <cmath>
#include <limits>

namespace edgemes::test {

inline caf::actor_system_config& small_system_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", static_cast<size_t>(2));
    actors::register_message_types(c);
    return c;
  }();
  return cfg;
}

// A file with the storage fixture's catalog and a writer actor on it.
struct writer_rig {
  temp_dir dir;
  std::string path = dir.file("t.db");
  storage::options opts;
  std::map<std::string, storage::machine_binding> bindings;
  std::shared_ptr<actors::ingest_gauge> gauge;
  caf::actor_system sys{small_system_config()};
  actors::writer_actor writer;
  std::shared_ptr<const storage::head> head;  // the writer's: readers see its live statuses

  writer_rig(actors::writer_settings ws, int64_t max_queue, int64_t busy_timeout_ms = 5000) {
    opts.busy_timeout_ms = busy_timeout_ms;
    auto db = storage::writer::open(path, opts);
    bindings = db->sync_catalog(storage::test::test_lines(), storage::test::test_machines());
    head = db->shared_head();
    gauge = std::make_shared<actors::ingest_gauge>(max_queue);
    writer = actors::spawn_writer(sys, std::move(db), ws, gauge);
  }

  ~writer_rig() { caf::anon_send_exit(writer, caf::exit_reason::user_shutdown); }

  // A report for the placer with `samples` values (<= 20), reserved like a poller does.
  bool send(int64_t ts, int samples) {
    actors::poll_report r;
    const auto& b = bindings.at("smt1-placer1");
    r.poll.machine_id = b.machine_id;
    r.poll.ts_ms = ts;
    r.poll.values.assign(20, std::numeric_limits<double>::quiet_NaN());
    for (int i = 0; i < samples; ++i)
      r.poll.values[static_cast<size_t>(b.slots[static_cast<size_t>(i)])] = ts + i;
    r.samples = samples;
    r.status.machine_id = b.machine_id;
    r.status.status = "online";
    r.status.last_poll_ms = ts;
    if (!gauge->try_reserve(samples))
      return false;
    caf::anon_send(writer, std::move(r));
    return true;
  }

  actors::writer_totals stop() {
    caf::scoped_actor self{sys};
    actors::writer_totals totals;
    self->request(writer, std::chrono::seconds(30), actors::stop_atom::value)
        .receive([&](actors::writer_totals& t) { totals = t; },
                 [&](caf::error& e) { FAIL("writer stop failed: " << caf::to_string(e)); });
    return totals;
  }

  int64_t stored_rows() {
    auto r = storage::reader::open(path, opts, head);
    return storage::test::stored_polls(r->handle());
  }
};

} // namespace edgemes::test
