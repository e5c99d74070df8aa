// storage/mes and storage/mes_reads on a real file: BOM revisions, the
// work-order life cycle, and the constraints the schema itself enforces.
#include "tests/storage/fixture.hpp"

#include "storage/mes.hpp"
#include "storage/mes_reads.hpp"

using namespace edgemes::storage;
using namespace edgemes::storage::test;

namespace {

std::vector<bom_item_row> items(int n, const std::string& part_prefix = "P") {
  std::vector<bom_item_row> out;
  for (int i = 0; i < n; ++i)
    out.push_back({part_prefix + std::to_string(i % 3), 2, {"R" + std::to_string(2 * i + 1),
                                                            "R" + std::to_string(2 * i + 2)},
                   "item " + std::to_string(i), i % 2 ? "bottom" : "top", i + 2});
  out.push_back({"SCREW-M3", 4, {}, "screws", "", n + 2});
  return out;
}

imported_bom import(writer& w, const std::string& product, int n, int64_t now = 1000) {
  imported_bom r;
  w.write_transaction([&] {
    r = import_bom(w, {product, "", "bom.csv", now, items(n)});
    return true;
  });
  return r;
}

mes_result write(writer& w, const std::function<mes_result()>& fn) {
  mes_result r;
  w.write_transaction([&] {
    r = fn();
    return r.status == mes_status::ok;
  });
  return r;
}

mes_result act(writer& w, const std::string& id, work_order_action a, int64_t now) {
  return write(w, [&] { return work_order_transition(w, id, a, now); });
}

} // namespace

TEST_CASE("each BOM import is the product's next revision, read back item for item",
          "[storage][mes]") {
  catalogued_file f;
  auto first = import(*f.w, "board-a", 5);
  CHECK(first.revision == 1);
  CHECK(first.product_created);
  CHECK(first.items == 6);
  CHECK(first.components == 5 * 2 + 4);
  auto second = import(*f.w, "board-a", 7, 2000);
  CHECK(second.revision == 2);
  CHECK_FALSE(second.product_created);
  CHECK(import(*f.w, "board-b", 1).revision == 1);

  auto r = reader::open(f.path, options{});
  auto all = products(*r);
  REQUIRE(all.size() == 2);
  CHECK(all[0].ident == "board-a");
  CHECK(all[0].name == "board-a");
  CHECK(all[0].revisions == 2);
  CHECK(all[0].latest_revision == 2);
  auto revs = bom_revisions(*r, "board-a");
  REQUIRE(revs.size() == 2);
  CHECK(revs[0].items == 6);
  CHECK(revs[1].items == 8);
  CHECK(revs[1].imported_ms == 2000);
  CHECK(revs[1].source == "bom.csv");
  CHECK(bom_revision(*r, "board-a", 0)->revision == 2);
  CHECK(bom_revision(*r, "board-a", 1)->revision == 1);
  CHECK_FALSE(bom_revision(*r, "board-a", 3));
  CHECK_FALSE(bom_revision(*r, "nope", 0));

  auto got = bom_items(*r, "board-a", 1);
  auto want = items(5);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("item " << i);
    CHECK(got[i].part_number == want[i].part_number);
    CHECK(got[i].quantity == want[i].quantity);
    CHECK(got[i].designators == want[i].designators);
    CHECK(got[i].description == want[i].description);
    CHECK(got[i].side == want[i].side);
    CHECK(got[i].csv_line == want[i].csv_line);
  }
}

TEST_CASE("a write job that throws half-way leaves nothing of it", "[storage][mes]") {
  catalogued_file f;
  import(*f.w, "board-a", 3);
  CHECK_THROWS(f.w->write_transaction([&] {
    import_bom(*f.w, {"board-a", "", "", 1, items(50)});
    throw db_error(SQLITE_FULL, "simulated: database or disk is full");
    return true;
  }));
  // A refusal (false) rolls back as well.
  f.w->write_transaction([&] {
    import_bom(*f.w, {"board-c", "", "", 1, items(2)});
    return false;
  });
  sqlite3* db = f.w->handle();
  CHECK(query_int(db, "SELECT count(*) FROM bom_revisions") == 1);
  CHECK(query_int(db, "SELECT count(*) FROM bom_items") == 4);
  CHECK(query_int(db, "SELECT count(*) FROM products") == 1);
  CHECK(import(*f.w, "board-a", 1).revision == 2);
}

TEST_CASE("a work order walks its life cycle; every illegal step names the status",
          "[storage][mes]") {
  catalogued_file f;
  import(*f.w, "board-a", 2);
  auto created = write(*f.w, [&] {
    return create_work_order(*f.w, {"WO-1", "board-a", "smt1", 100, 0, 5000});
  });
  REQUIRE(created.status == mes_status::ok);
  CHECK(created.revision == 1);

  struct step {
    work_order_action action;
    int64_t now;
    mes_status status;
    const char* after;
    const char* message;
  };
  using a = work_order_action;
  const step steps[] = {
      {a::pause, 5100, mes_status::illegal_transition, "", "'WO-1' is created: it cannot pause"},
      {a::complete, 5100, mes_status::illegal_transition, "", "it has not started"},
      {a::start, 6000, mes_status::ok, "running", ""},
      {a::start, 6100, mes_status::illegal_transition, "", "is running: it cannot start"},
      {a::pause, 7000, mes_status::ok, "paused", ""},
      {a::pause, 7100, mes_status::illegal_transition, "", "is paused already"},
      {a::start, 7000, mes_status::ok, "running", ""},  // same ms as the pause: still a new run
      {a::complete, 9000, mes_status::ok, "completed", ""},
      {a::start, 9100, mes_status::illegal_transition, "", "a completed order is final"},
  };
  for (const auto& s : steps) {
    auto r = act(*f.w, "WO-1", s.action, s.now);
    INFO(to_string(s.action) << " at " << s.now << ": " << r.message);
    CHECK(r.status == s.status);
    CHECK(r.status_after == s.after);
    CHECK_THAT(r.message, Catch::Contains(s.message));
  }
  CHECK(act(*f.w, "WO-9", a::start, 1).status == mes_status::unknown_order);

  auto rd = reader::open(f.path, options{});
  auto o = work_order(*rd, "WO-1");
  REQUIRE(o);
  CHECK(o->status == "completed");
  CHECK(o->completed_ms == 9000);
  REQUIRE(o->runs.size() == 2);
  CHECK(o->runs[0].start_ms == 6000);
  CHECK(o->runs[0].end_ms == 7000);
  CHECK(o->runs[1].start_ms == 7000);
  CHECK(o->runs[1].end_ms == 9000);
}

TEST_CASE("one running order per line: refused by name, and by the schema itself",
          "[storage][mes]") {
  catalogued_file f;
  import(*f.w, "board-a", 2);
  for (const char* id : {"WO-1", "WO-2"})
    REQUIRE(write(*f.w, [&] {
              return create_work_order(*f.w, {id, "board-a", "smt1", 10, 0, 1});
            }).status == mes_status::ok);
  REQUIRE(act(*f.w, "WO-1", work_order_action::start, 10).status == mes_status::ok);
  auto busy = act(*f.w, "WO-2", work_order_action::start, 20);
  CHECK(busy.status == mes_status::line_busy);
  CHECK_THAT(busy.message, Catch::Contains("'WO-1' is running on the same line"));
  // Past the code: the partial unique index refuses a second running order.
  raw_db raw(f.path);
  int rc = sqlite3_exec(raw.get(), "UPDATE work_orders SET status='running' WHERE ident='WO-2'",
                        nullptr, nullptr, nullptr);
  CHECK(rc == SQLITE_CONSTRAINT);
  CHECK_THAT(sqlite3_errmsg(raw.get()), Catch::Contains("UNIQUE constraint failed"));
  // Paused, the line is free.
  REQUIRE(act(*f.w, "WO-1", work_order_action::pause, 30).status == mes_status::ok);
  CHECK(act(*f.w, "WO-2", work_order_action::start, 40).status == mes_status::ok);
}

TEST_CASE("an order keeps its revision; a product with orders cannot be deleted",
          "[storage][mes]") {
  catalogued_file f;
  import(*f.w, "board-a", 2);
  REQUIRE(write(*f.w, [&] {
            return create_work_order(*f.w, {"WO-1", "board-a", "smt1", 10, 0, 1});
          }).status == mes_status::ok);
  import(*f.w, "board-a", 4);
  auto pinned = write(*f.w, [&] {
    return create_work_order(*f.w, {"WO-2", "board-a", "smt1", 10, 1, 2});
  });
  CHECK(pinned.revision == 1);
  auto latest = write(*f.w, [&] {
    return create_work_order(*f.w, {"WO-3", "board-a", "smt1", 10, 0, 3});
  });
  CHECK(latest.revision == 2);
  CHECK(write(*f.w, [&] {
          return create_work_order(*f.w, {"WO-3", "board-a", "smt1", 10, 0, 3});
        }).status == mes_status::order_exists);
  CHECK(write(*f.w, [&] {
          return create_work_order(*f.w, {"WO-4", "board-a", "smt1", 10, 7, 3});
        }).message == "product 'board-a' has no BOM revision 7");
  CHECK(write(*f.w, [&] {
          return create_work_order(*f.w, {"WO-4", "nope", "smt1", 10, 0, 3});
        }).status == mes_status::unknown_product);
  CHECK(write(*f.w, [&] {
          return create_work_order(*f.w, {"WO-4", "board-a", "smt9", 10, 0, 3});
        }).status == mes_status::unknown_line);

  auto rd = reader::open(f.path, options{});
  CHECK(work_order(*rd, "WO-1")->revision == 1);
  CHECK(work_orders(*rd, std::string("smt1"), std::nullopt, 100).size() == 3);
  CHECK(work_orders(*rd, std::nullopt, std::string("running"), 100).empty());
  CHECK(bom_revisions(*rd, "board-a")[0].work_orders == 2);

  raw_db raw(f.path);
  raw.exec("PRAGMA foreign_keys=ON");
  CHECK(sqlite3_exec(raw.get(), "DELETE FROM products WHERE ident='board-a'", nullptr, nullptr,
                     nullptr) == SQLITE_CONSTRAINT);
  // A product without orders goes with its revisions and items.
  f.w->write_transaction([&] {
    import_bom(*f.w, {"board-z", "", "", 1, items(3)});
    return true;
  });
  raw.exec("DELETE FROM products WHERE ident='board-z'");
  CHECK(query_int(raw.get(), "SELECT count(*) FROM bom_revisions") == 2);
  CHECK(query_int(raw.get(), "SELECT count(*) FROM bom_items") == 3 + 5);
}
