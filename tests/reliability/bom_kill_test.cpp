// kill -9 of the daemon in the middle of a large BOM import, at random
// moments, several times: a BOM import is one write job, one transaction on
// the writer (actors/messages.hpp, write_job), so after every restart each
// revision holds all its items or does not exist, and an import the daemon
// answered 201 is there.
#include "tests/e2e/mes_support.hpp"
#include "tests/reliability/rel_support.hpp"

#include <csignal>
#include <future>
#include <iostream>
#include <random>
#include <thread>

using namespace edgemes::test;
using namespace std::chrono_literals;

namespace {

std::string kill_config(const temp_dir& dir, int port) {
  nlohmann::json cfg = {
      {"site", "bom-kill"},
      {"database", {{"path", dir.file("factory.db")}}},
      {"writer", {{"flush_interval_ms", 50}}},
      {"api", {{"bind", "127.0.0.1"}, {"port", port}, {"query_actors", 2},
               {"token", mes::token}}},
      {"lines", {{{"id", "l1"}, {"machines", {rel::sim_machine("p1", "placer", 50)}}}}}};
  auto path = dir.file("edgemes.json");
  write_file(path, cfg.dump(2));
  return path;
}

// The invariant, read from the file: every revision has exactly its items.
// Returns the number of revisions.
int64_t check_revisions_whole(const std::string& path, int64_t rows) {
  ro_db db(path);
  REQUIRE(db.integrity() == "ok");
  REQUIRE(db.integer("SELECT count(*) FROM bom_revisions WHERE items <> " +
                     std::to_string(rows)) == 0);
  REQUIRE(db.integer("SELECT count(*) FROM bom_revisions r WHERE (SELECT count(*) FROM "
                     "bom_items i WHERE i.revision_id = r.id) <> r.items") == 0);
  REQUIRE(db.integer("SELECT count(*) FROM bom_items WHERE revision_id NOT IN "
                     "(SELECT id FROM bom_revisions)") == 0);
  // Revisions are numbered 1..n without a gap.
  REQUIRE(db.integer("SELECT count(*) FROM bom_revisions") ==
          db.integer("SELECT coalesce(max(revision), 0) FROM bom_revisions"));
  return db.integer("SELECT count(*) FROM bom_revisions");
}

} // namespace

TEST_CASE("kill -9 during a large BOM import, at random moments, leaves each revision whole "
          "or absent", "[reliability][mes]") {
  temp_dir dir;
  const int port = free_port();
  const auto cfg = kill_config(dir, port);
  const int rows = 60000;
  const std::string csv = mes::generated_bom(rows);
  REQUIRE(csv.size() < (4u << 20));

  std::mt19937 rng(std::random_device{}());
  // Revisions before the round's import, and at least after it (+1 when the
  // daemon answered 201 before the kill).
  int64_t before = 0, at_least = 0, answered = 0, killed_before = 0, killed_after = 0;
  int64_t import_ms = 0;
  auto check = [&](const std::string& log) {
    auto daemon = mes::start_daemon(dir, port, cfg, log);
    const int64_t found = check_revisions_whole(dir.file("factory.db"), rows);
    INFO(log << ": " << found << " revisions after the restart, " << before
             << " before the import, at least " << at_least);
    REQUIRE(found >= at_least);     // every import answered 201 is there
    REQUIRE(found <= before + 1);   // at most the one import in flight
    (found > before ? killed_after : killed_before) += 1;
    before = at_least = found;
    return daemon;
  };
  for (int round = 0; round < 8; ++round) {
    auto daemon = round == 0 ? mes::start_daemon(dir, port, cfg, "edgemes-0.log")
                             : check("edgemes-" + std::to_string(round) + ".log");
    if (round == 0) {
      // One whole import, timed: the kills below land within its span.
      auto t0 = std::chrono::steady_clock::now();
      auto r = mes::post(port, "/api/v1/products/big/bom", csv, "text/csv");
      import_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
      REQUIRE(r.status == 201);
      before = at_least = check_revisions_whole(dir.file("factory.db"), rows);
      REQUIRE(before == 1);
    }
    auto import = std::async(std::launch::async, [&] {
      return mes::post(port, "/api/v1/products/big/bom", csv, "text/csv").status;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(0, import_ms * 3 / 2)(rng)));
    daemon->signal(SIGKILL);
    REQUIRE(daemon->wait(5s) == 128 + SIGKILL);
    if (import.get() == 201) {
      ++answered;
      at_least = before + 1;
    }
  }
  auto daemon = check("final.log");
  std::cout << "[bom kill] " << rows << "-line BOM, import " << import_ms << " ms; 8 kills: "
            << killed_before << " before its commit (no revision), " << killed_after
            << " after (whole revision), " << answered << " answered 201 before the kill\n";
  // At least one kill landed before an import's commit (random, but spread
  // over the import's span), so a torn import was seen and left nothing.
  CHECK(killed_before >= 1);
}
