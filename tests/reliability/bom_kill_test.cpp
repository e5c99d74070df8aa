// kill -9 of the daemon in the middle of a large BOM import, at random
// moments, several times: a BOM import is one write job, one transaction on
// the writer (actors/messages.hpp, write_job), so after every restart each
// revision holds all its items or does not exist, and an import the daemon
// answered 201 is there.
//
// Both outcomes must be seen: a kill before the import's commit (nothing of
// it after the restart) and one after it (the whole revision after the
// restart). The kill delays are drawn across the import's measured duration
// and a bit past it; a kill whose delay outlasts the import lands right after
// the reply arrived. The test goes on (a bounded number of rounds, the delays
// drawn from a wider span each time) until both were seen.
#include "tests/reliability/bom_support.hpp"

#include <csignal>
#include <future>
#include <iostream>
#include <random>
#include <thread>

using namespace edgemes::test;
using namespace std::chrono_literals;

namespace {

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
  const auto cfg = rel::bom_config(dir, port, "bom-kill", dir.file("factory.db"), 50);
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
  // At least 8 kills; more (at most 24) until both outcomes were seen.
  const int min_rounds = 8, max_rounds = 24;
  int round = 0;
  std::string delays;
  for (; round < max_rounds; ++round) {
    if (round >= min_rounds && killed_before > 0 && killed_after > 0)
      break;
    auto daemon = round == 0 ? mes::start_daemon(dir, port, cfg, "edgemes-0.log")
                             : check("edgemes-" + std::to_string(round) + ".log");
    if (round == 0) {
      // Two whole imports, timed (the second a re-import, as in every round
      // below): the kills below are spread over the slower one's span.
      for (int i = 0; i < 2; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = mes::post(port, "/api/v1/products/big/bom", csv, "text/csv");
        import_ms = std::max<int64_t>(
            import_ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - t0).count());
        REQUIRE(r.status == 201);
      }
      before = at_least = check_revisions_whole(dir.file("factory.db"), rows);
      REQUIRE(before == 2);
    }
    // Delays from 0 to 1.5 x the import's span, the span growing by half of
    // it per round past the first eight (a box slower than when it was timed).
    const int64_t span = import_ms * 3 / 2 + import_ms * std::max(0, round - min_rounds + 1) / 2;
    const auto delay = std::chrono::milliseconds(
        std::uniform_int_distribution<int64_t>(0, span)(rng));
    auto import = std::async(std::launch::async, [&] {
      return mes::post(port, "/api/v1/products/big/bom", csv, "text/csv").status;
    });
    // Killed at the delay, or right after the reply when it came sooner.
    const bool replied = import.wait_for(delay) == std::future_status::ready;
    daemon->signal(SIGKILL);
    REQUIRE(daemon->wait(5s) == 128 + SIGKILL);
    delays += " " + std::to_string(delay.count()) + (replied ? "r" : "");
    if (import.get() == 201) {
      ++answered;
      at_least = before + 1;
    }
  }
  auto daemon = check("final.log");
  std::cout << "[bom kill] " << rows << "-line BOM, import " << import_ms << " ms; " << round
            << " kills: " << killed_before << " before its commit (no revision), "
            << killed_after << " after (whole revision), " << answered
            << " answered 201 before the kill; delays (ms, r = after the reply):" << delays
            << "\n";
  // Both outcomes were observed: a kill before an import's commit left
  // nothing of it, and one after its commit left the whole revision.
  CHECK(killed_before >= 1);
  CHECK(killed_after >= 1);
}
