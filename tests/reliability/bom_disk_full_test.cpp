// A write job on a full disk, end to end: a real daemon whose database lives
// on a small tmpfs that a filler file fills up. A BOM import (one write job,
// one transaction on the writer: actors/messages.hpp, write_job) fails with
// SQLITE_FULL, which the API answers 507 disk_full (api/admission.cpp); the
// transaction rolled back, so nothing of the import is stored; once the
// filler is removed the same import succeeds, without a restart. Needs root
// for the tmpfs mount (CI runs as root); elsewhere the test says so and does
// nothing.
#include "tests/reliability/bom_support.hpp"

#include <csignal>
#include <iostream>

using namespace edgemes::test;
using namespace std::chrono_literals;

namespace {

std::string error_code(const mes::reply& r) {
  return r.doc.is_object() && r.doc.contains("error") ? r.doc["error"].value("code", "") : "";
}

} // namespace

TEST_CASE("a BOM import on a full disk is refused 507 disk_full, stores nothing, and succeeds "
          "once space returns", "[reliability][mes][diskfull]") {
  temp_dir dir;
  rel::tmpfs_mount mnt(dir.file("mnt"), "16m");
  if (!mnt.mounted()) {
    WARN("mounting a tmpfs is not permitted here (needs root): BOM disk-full test not run");
    return;
  }
  const int port = free_port();
  const auto db_path = dir.file("mnt/factory.db");
  auto daemon =
      mes::start_daemon(dir, port, rel::bom_config(dir, port, "bom-disk-full", db_path, 200));
  // ~1.5 MiB of rows and index entries: more than any free page or WAL frame
  // the file had before the disk filled up.
  const int rows = 20000;
  const std::string csv = mes::generated_bom(rows);
  const std::string target = "/api/v1/products/big/bom?name=Big&source=big.csv";

  const int64_t filled = rel::fill(dir.file("mnt/filler"));
  auto refused = mes::post(port, target, csv, "text/csv");
  INFO(refused.body);
  REQUIRE(refused.status == 507);
  CHECK(error_code(refused) == "disk_full");
  // Nothing of the import: no product, no revision (the API reads the file).
  CHECK(mes::get(port, "/api/v1/products/big").status == 404);
  auto listed = mes::get(port, "/api/v1/products");
  REQUIRE(listed.status == 200);
  CHECK(listed.doc["products"].empty());
  // Still full: refused again, the same way (no half-written state in between).
  auto again = mes::post(port, target, csv, "text/csv");
  CHECK(again.status == 507);
  CHECK(error_code(again) == "disk_full");

  // Space returns: the same import succeeds, without a restart.
  std::filesystem::remove(dir.file("mnt/filler"));
  auto ok = mes::post(port, target, csv, "text/csv");
  INFO(ok.body);
  REQUIRE(ok.status == 201);
  CHECK(ok.doc["revision"] == 1);
  CHECK(ok.doc["items"] == rows);
  CHECK(ok.doc["product_created"] == true);
  auto product = mes::get(port, "/api/v1/products/big");
  REQUIRE(product.status == 200);

  daemon->signal(SIGTERM);
  REQUIRE(daemon->wait(30s) == 0);
  ro_db db(db_path);
  REQUIRE(db.integrity() == "ok");
  CHECK(db.integer("SELECT count(*) FROM products") == 1);
  CHECK(db.integer("SELECT count(*) FROM bom_revisions") == 1);
  CHECK(db.integer("SELECT items FROM bom_revisions") == rows);
  CHECK(db.integer("SELECT count(*) FROM bom_items") == rows);
  std::cout << "[bom disk full] filler " << filled / 1024 << " KiB; a " << csv.size() / 1024
            << " KiB, " << rows << "-row import refused 507 twice, then stored whole\n";
}
