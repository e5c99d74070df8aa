// The MES layer end to end (docs/MES.md): a real daemon with a token, a real
// SQLite file and the simulated machines of the `sim` adapter — BOM imports
// and their revisions, problems through HTTP, the body limit, the CLI, and a
// work order counted from the line's output counter.
#include "tests/e2e/mes_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

using namespace edgemes::test;
using namespace edgemes::test::mes;
using namespace std::chrono_literals;

namespace {

// Line smt1: a printer and a placer polled every 50 ms. Its output counter is
// the placer's placements_total: the sim's board counters move one board per
// 20-120 s, too slow for a test of seconds, while placements move ~10 per
// second when the placer runs (what is tested is the counting over runs, not
// what the counter means). Line smt2 has no output counter. Seed 3 keeps the
// placer in RUN for the first minutes.
std::string mes_config(const temp_dir& dir, int port) {
  auto machine = [](const std::string& id, const std::string& type) {
    return json{{"id", id}, {"type", type}, {"poll_interval_ms", 50},
                {"source", {{"adapter", "sim"}, {"seed", 3}}}};
  };
  json cfg = {
      {"site", "mes-test"},
      {"database", {{"path", dir.file("mes.db")}}},
      {"writer", {{"flush_interval_ms", 50}}},
      {"api", {{"bind", "127.0.0.1"}, {"port", port}, {"query_actors", 2}, {"token", token}}},
      {"lines",
       {{{"id", "smt1"},
         {"machines", {machine("smt1-printer", "printer"), machine("smt1-placer1", "placer")}},
         {"output", {{"machine", "smt1-placer1"}, {"metric", "placements_total"}}}},
        {{"id", "smt2"}, {"machines", {machine("smt2-aoi", "aoi")}}}}},
  };
  auto path = dir.file("mes.json");
  write_file(path, cfg.dump(2));
  return path;
}

struct running_daemon {
  temp_dir dir;
  int port = free_port();
  std::string cfg = mes_config(dir, port);
  std::unique_ptr<process> proc = mes::start_daemon(dir, port, cfg);
};

const std::string small_bom =
    "Designator,Part Number,Qty,Description,Side\n"
    "\"R1-R4\",RES-10K,4,resistors,Top\n"
    "\"C1, C2\",CAP-100N,2,capacitors,Bottom\n"
    ",SCREW-M3,3,screws,\n"
    "R5,RES-10K,1,one more,T\n";

std::string error_code(const reply& r) {
  return r.doc.is_object() && r.doc.contains("error") ? r.doc["error"].value("code", "") : "";
}
std::string error_message(const reply& r) {
  return r.doc.is_object() && r.doc.contains("error") ? r.doc["error"].value("message", "") : "";
}

// Runs `edgemes ARGS...` to the end; its exit code and its output.
struct cli_result {
  int code = -1;
  std::string output;
};
cli_result run_cli(const temp_dir& dir, const std::vector<std::string>& args) {
  static int n = 0;
  std::vector<std::string> argv{binary("edgemes")};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto log = dir.file("cli-" + std::to_string(++n) + ".log");
  process p(argv, log);
  cli_result r;
  r.code = p.wait(30s);
  r.output = p.log();
  return r;
}

// What the daemon answers to a POST of `target` whose headers declare a body
// of `length` bytes, none of which is sent (its status line, headers and
// body as text; "" when it does not answer within 5 s).
std::string headers_only(int port, const std::string& target, size_t length) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string head = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer " + token + "\r\nContent-Type: text/csv\r\n"
                           "Content-Length: " + std::to_string(length) + "\r\n\r\n";
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos && out.find("}}") != std::string::npos)
      break;  // a whole JSON error reply
  }
  ::close(fd);
  return out;
}

// The increase of the placer's placements_total over [from, to) in plain SQL
// on the file: every rise between two stored values, a drop counting nothing.
int64_t placements_sql(ro_db& db, int64_t from, int64_t to) {
  return db.integer(
      "SELECT coalesce(sum(CASE WHEN value >= prev THEN value - prev ELSE 0 END), 0) FROM "
      "(SELECT ts, value, lag(value) OVER (ORDER BY ts) AS prev FROM samples "
      " WHERE machine='smt1-placer1' AND metric='placements_total') "
      "WHERE prev IS NOT NULL AND ts >= " + std::to_string(from) + " AND ts < " +
      std::to_string(to));
}

} // namespace

TEST_CASE("a BOM import is revision 1, a re-import revision 2, and an order keeps revision 1",
          "[e2e][mes]") {
  running_daemon d;
  auto first = post(d.port, "/api/v1/products/board-a/bom?name=Board%20A&source=a.csv",
                    small_bom, "text/csv");
  INFO(first.body);
  REQUIRE(first.status == 201);
  CHECK(first.doc == json::parse(R"({"product": "board-a", "revision": 1, "items": 4,
                                     "components": 10, "product_created": true})"));
  auto order = post(d.port, "/api/v1/work-orders",
                    R"({"id": "WO-1", "product": "board-a", "quantity": 50, "line": "smt1"})");
  INFO(order.body);
  REQUIRE(order.status == 201);
  CHECK(order.doc["revision"] == 1);
  CHECK(order.doc["status"] == "created");

  auto second = post(d.port, "/api/v1/products/board-a/bom", generated_bom(20), "text/csv");
  INFO(second.body);
  REQUIRE(second.status == 201);
  CHECK(second.doc["revision"] == 2);
  CHECK(second.doc["items"] == 20);
  CHECK(second.doc["product_created"] == false);

  auto wo = get(d.port, "/api/v1/work-orders/WO-1");
  REQUIRE(wo.status == 200);
  CHECK(wo.doc["revision"] == 1);
  CHECK(wo.doc["components"]["per_board"] == 10);  // revision 1's, not 2's 20

  auto product = get(d.port, "/api/v1/products/board-a");
  INFO(product.body);
  REQUIRE(product.status == 200);
  CHECK(product.doc["name"] == "Board A");
  CHECK(product.doc["latest_revision"] == 2);
  REQUIRE(product.doc["bom_revisions"].size() == 2);
  CHECK(product.doc["bom_revisions"][0]["source"] == "a.csv");
  CHECK(product.doc["bom_revisions"][0]["work_orders"] == 1);
  CHECK(product.doc["bom_revisions"][1]["items"] == 20);

  auto latest = get(d.port, "/api/v1/products/board-a/bom");
  REQUIRE(latest.status == 200);
  CHECK(latest.doc["revision"] == 2);
  CHECK(latest.doc["bom"].size() == 20);
  auto rev1 = get(d.port, "/api/v1/products/board-a/bom?revision=1");
  REQUIRE(rev1.status == 200);
  CHECK(rev1.doc["bom"][0] == json::parse(R"({"position": 1, "part_number": "RES-10K",
      "quantity": 4, "designators": ["R1", "R2", "R3", "R4"], "description": "resistors",
      "side": "top", "csv_line": 2})"));
  CHECK(rev1.doc["bom"][2]["designators"].empty());
  CHECK(rev1.doc["bom"][2]["side"].is_null());

  CHECK(error_code(get(d.port, "/api/v1/products/board-a/bom?revision=3")) == "unknown_revision");
  CHECK(error_code(get(d.port, "/api/v1/products/nope")) == "unknown_product");
  CHECK(get(d.port, "/api/v1/products").doc["products"].size() == 1);

  ro_db db(d.dir.file("mes.db"));
  CHECK(db.integer("SELECT count(*) FROM bom_items") == 24);
  CHECK(db.integrity() == "ok");
}

TEST_CASE("a broken BOM answers 422 with every problem's line, column and header, and writes "
          "nothing", "[e2e][mes]") {
  running_daemon d;
  const std::string broken =
      "Designator;Part Number;Qty\n"
      "R1-R3;RES;4\n"
      "C1;;1\n"
      "R2;RES;1\n";
  auto r = post(d.port, "/api/v1/products/board-x/bom", broken, "text/csv");
  INFO(r.body);
  REQUIRE(r.status == 422);
  CHECK(error_code(r) == "bom_invalid");
  CHECK(error_message(r) == "the BOM has 3 problems; nothing was imported");
  CHECK(r.doc["error"]["problems"] == json::parse(R"J([
    {"line": 2, "column": 3, "header": "Qty",
     "message": "quantity is 4 but 3 designators are given (R1, R2, R3)",
     "text": "line 2, column 3 (Qty): quantity is 4 but 3 designators are given (R1, R2, R3)"},
    {"line": 3, "column": 2, "header": "Part Number", "message": "empty part number",
     "text": "line 3, column 2 (Part Number): empty part number"},
    {"line": 4, "column": 1, "header": "Designator",
     "message": "duplicate designator R2: it is also on line 2",
     "text": "line 4, column 1 (Designator): duplicate designator R2: it is also on line 2"}])J"));
  CHECK(r.doc["error"]["problems_omitted"] == 0);

  // Header names and the separator from the query string: a German ERP's file.
  const std::string german = "Bauteil|Menge\nR1|1\nR2|1\n";
  auto refused = post(d.port, "/api/v1/products/board-x/bom", german, "text/csv");
  CHECK(refused.status == 422);
  auto ok = post(d.port,
                 "/api/v1/products/board-x/bom?separator=%7C&designators_header=Ref&"
                 "part_number_header=Bauteil&quantity_header=Menge",
                 "Ref|Bauteil|Menge\nR1|RES|1\nR2|RES|1\n", "text/csv");
  INFO(ok.body);
  CHECK(ok.status == 201);
  CHECK(ok.doc["revision"] == 1);  // the refused imports left no revision behind

  CHECK(error_code(post(d.port, "/api/v1/products/bad%20id/bom", small_bom, "text/csv")) ==
        "bad_product_id");
  CHECK(error_code(post(d.port, "/api/v1/products/b/bom?separator=ab", small_bom, "text/csv")) ==
        "bad_parameter");

  // Over the import's body limit: 413 from the headers alone, before a byte
  // of the body is read (a raw request that never sends it), and the daemon
  // serves on.
  auto big = headers_only(d.port, "/api/v1/products/big/bom", (4 << 20) + 1);
  INFO(big);
  CHECK_THAT(big, Catch::StartsWith("HTTP/1.1 413"));
  CHECK_THAT(big, Catch::Contains("\"code\":\"payload_too_large\""));
  CHECK_THAT(big, Catch::Contains("at most 4194304 bytes for a BOM import"));
  CHECK_THAT(headers_only(d.port, "/api/v1/products/big/bom", 4 << 20),
             !Catch::StartsWith("HTTP/1.1 413"));  // exactly the limit is taken
  auto other = post(d.port, "/api/v1/work-orders", std::string(100 * 1024, ' '));
  CHECK(other.status == 413);
  CHECK(get(d.port, "/api/v1/health").status == 200);
  ro_db db(d.dir.file("mes.db"));
  CHECK(db.integer("SELECT count(*) FROM bom_revisions") == 1);
  CHECK(db.integer("SELECT count(*) FROM products") == 1);
}

TEST_CASE("a 10 000-line BOM imports whole and reads back item for item", "[e2e][mes]") {
  running_daemon d;
  const std::string csv = generated_bom(10000, "-big");
  auto t0 = std::chrono::steady_clock::now();
  auto r = post(d.port, "/api/v1/products/big/bom", csv, "text/csv");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0).count();
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.doc["items"] == 10000);
  CHECK(r.doc["components"] == 10000);
  std::cout << "[mes] 10 000-line BOM (" << csv.size() << " bytes) imported over HTTP in " << ms
            << " ms (not asserted: tools/bench/run-bom-import.sh measures it)\n";
  auto bom = get(d.port, "/api/v1/products/big/bom");
  REQUIRE(bom.status == 200);
  REQUIRE(bom.doc["bom"].size() == 10000);
  for (int i = 1; i <= 10000; ++i) {
    const auto& item = bom.doc["bom"][i - 1];
    INFO("item " << i);
    REQUIRE(item["designators"] == json::array({"R" + std::to_string(i)}));
    REQUIRE(item["part_number"] == "RC0603-" + std::to_string(i % 97));
    REQUIRE(item["description"] == "resistor " + std::to_string(i) + "-big");
    REQUIRE(item["side"] == (i % 2 ? "top" : "bottom"));
    REQUIRE(item["csv_line"] == i + 1);
  }
}

TEST_CASE("a work order counts the line's output over its runs only, refuses a second running "
          "order and illegal steps", "[e2e][mes]") {
  running_daemon d;
  REQUIRE(post(d.port, "/api/v1/products/board-a/bom", small_bom, "text/csv").status == 201);
  // WO-2 as `curl -d` sends it: a JSON body labelled form-encoded, which the
  // HTTP library would also parse as parameters.
  for (const char* id : {"WO-1", "WO-2"})
    REQUIRE(post(d.port, "/api/v1/work-orders",
                 json{{"id", id}, {"product", "board-a"}, {"quantity", 100000}, {"line", "smt1"}}
                     .dump(),
                 id == std::string("WO-1") ? "application/json"
                                           : "application/x-www-form-urlencoded")
                .status == 201);

  // Refusals, each naming what is wrong.
  auto dup = post(d.port, "/api/v1/work-orders",
                  R"({"id": "WO-1", "product": "board-a", "quantity": 5, "line": "smt1"})");
  CHECK(dup.status == 409);
  CHECK(error_code(dup) == "work_order_exists");
  auto no_output = post(d.port, "/api/v1/work-orders",
                        R"({"id": "WO-9", "product": "board-a", "quantity": 5, "line": "smt2"})");
  CHECK(no_output.status == 422);
  CHECK(error_code(no_output) == "no_output_counter");
  CHECK_THAT(error_message(no_output), Catch::Contains("/lines/1/output"));
  auto no_product = post(d.port, "/api/v1/work-orders",
                         R"({"id": "WO-9", "product": "nope", "quantity": 5, "line": "smt1"})");
  CHECK(no_product.status == 422);
  CHECK(error_code(no_product) == "unknown_product");
  auto bad = post(d.port, "/api/v1/work-orders", R"({"id": "WO-9", "product": "board-a"})");
  CHECK(bad.status == 400);
  CHECK_THAT(error_message(bad), Catch::Contains("'line' is required"));
  auto pause_new = post(d.port, "/api/v1/work-orders/WO-1/pause", "");
  CHECK(pause_new.status == 409);
  CHECK(error_code(pause_new) == "illegal_transition");
  CHECK_THAT(error_message(pause_new), Catch::Contains("'WO-1' is created"));
  CHECK(post(d.port, "/api/v1/work-orders/WO-7/start", "").status == 404);

  // Run 1, a pause, run 2: the line's output counted during the runs only.
  auto start = post(d.port, "/api/v1/work-orders/WO-1/start", "");
  INFO(start.body);
  REQUIRE(start.status == 200);
  CHECK(start.doc["previous_status"] == "created");
  CHECK(start.doc["status"] == "running");
  auto busy = post(d.port, "/api/v1/work-orders/WO-2/start", "");
  CHECK(busy.status == 409);
  CHECK(error_code(busy) == "line_busy");
  CHECK_THAT(error_message(busy), Catch::Contains("'WO-1' is running on the same line"));
  auto again = post(d.port, "/api/v1/work-orders/WO-1/start", "");
  CHECK(error_code(again) == "illegal_transition");

  auto boards = [&] { return get(d.port, "/api/v1/work-orders/WO-1").doc.value("boards", 0.0); };
  REQUIRE(wait_until([&] { return boards() >= 10; }, 20s));
  auto running = get(d.port, "/api/v1/work-orders/WO-1");
  CHECK(running.doc["status"] == "running");
  CHECK(running.doc["rate_per_hour"].get<double>() > 0);
  CHECK(running.doc["eta_ms"].get<int64_t>() > now_ms());
  REQUIRE(post(d.port, "/api/v1/work-orders/WO-1/pause", "").status == 200);
  std::this_thread::sleep_for(1500ms);  // a pause the placer keeps counting through
  REQUIRE(post(d.port, "/api/v1/work-orders/WO-1/start", "").status == 200);
  const double before = boards();
  REQUIRE(wait_until([&] { return boards() >= before + 10; }, 20s));
  auto done = post(d.port, "/api/v1/work-orders/WO-1/complete", "");
  REQUIRE(done.status == 200);
  CHECK(done.doc["status"] == "completed");
  CHECK(error_code(post(d.port, "/api/v1/work-orders/WO-1/start", "")) == "illegal_transition");
  // The line is free again.
  CHECK(post(d.port, "/api/v1/work-orders/WO-2/start", "").status == 200);

  // Against the raw rows: the same arithmetic in plain SQL, over the runs.
  ro_db db(d.dir.file("mes.db"));
  auto runs = db.rows("SELECT r.start_ms, r.end_ms FROM work_order_runs r JOIN work_orders w "
                      "ON w.id = r.work_order_id WHERE w.ident = 'WO-1' ORDER BY r.start_ms");
  REQUIRE(runs.size() == 2);
  auto sql_boards = [&] {
    int64_t sum = 0;
    for (const auto& r : runs)
      sum += placements_sql(db, std::stoll(r[0]), std::stoll(r[1]));
    return sum;
  };
  // Polls taken before the end may still be on their way to the file: wait for them.
  json order;
  bool same = wait_until([&] {
    order = get(d.port, "/api/v1/work-orders/WO-1").doc;
    return order.value("boards", -1.0) == static_cast<double>(sql_boards());
  }, 5s);
  INFO(order.dump(2));
  CHECK(same);
  const double counted = order["boards"];
  CHECK(counted >= 20);
  const int64_t span = placements_sql(db, std::stoll(runs[0][0]), std::stoll(runs[1][1]));
  CHECK(counted < static_cast<double>(span));  // the pause counted nothing
  CHECK(order["status"] == "completed");
  CHECK(order["eta_ms"].is_null());
  CHECK(order["output"] == json::parse(R"({"machine": "smt1-placer1",
                                           "metric": "placements_total"})"));
  CHECK(order["progress"] == counted / 100000);
  const double hours = order["running_ms"].get<double>() / 3'600'000.0;
  CHECK(order["rate_per_hour"].get<double>() == Approx(counted / hours));
  // Components: boards x the revision's quantities; placed parts are the
  // items with designators; the placer counted on the same counter.
  const auto& c = order["components"];
  CHECK(c["per_board"] == 10);
  CHECK(c["placed_per_board"] == 7);
  CHECK(c["expected"] == counted * 10);
  CHECK(c["expected_placed"] == counted * 7);
  CHECK(c["parts"] == json::parse("[{\"part_number\": \"RES-10K\", \"per_board\": 5, "
                                  "\"expected\": " + json(counted * 5).dump() + "}, "
                                  "{\"part_number\": \"CAP-100N\", \"per_board\": 2, "
                                  "\"expected\": " + json(counted * 2).dump() + "}, "
                                  "{\"part_number\": \"SCREW-M3\", \"per_board\": 3, "
                                  "\"expected\": " + json(counted * 3).dump() + "}]"));
  REQUIRE(c["placers"].size() == 1);
  CHECK(c["placers"][0]["machine"] == "smt1-placer1");
  CHECK(c["placers"][0]["placed"] == counted);
  CHECK(c["placed_by_placers"] == counted);

  auto list = get(d.port, "/api/v1/work-orders?line=smt1&status=completed");
  REQUIRE(list.status == 200);
  REQUIRE(list.doc["work_orders"].size() == 1);
  CHECK(list.doc["work_orders"][0]["boards"] == counted);
  CHECK(get(d.port, "/api/v1/work-orders?status=running").doc["work_orders"][0]["id"] == "WO-2");
  CHECK(get(d.port, "/api/v1/work-orders?status=bogus").status == 400);
}

TEST_CASE("the CLI checks a BOM locally, says when no daemon runs, and imports and drives "
          "orders through the daemon", "[e2e][mes][cli]") {
  temp_dir dir;
  const int port = free_port();
  const std::string cfg = mes_config(dir, port);
  const std::string bad = dir.file("bad.csv"), good = dir.file("good.csv");
  write_file(bad, "Designator,Part Number,Qty\nR1,RES,1\nR1,RES,1\n");
  write_file(good, small_bom);
  write_file(dir.file("token"), token + "\n");

  // No daemon: the file's problems still come, with line and column.
  auto local = run_cli(dir, {"import-bom", "--config", cfg, "--product", "p1", bad});
  INFO(local.output);
  CHECK(local.code == 1);
  CHECK_THAT(local.output, Catch::Contains("1 problem, nothing imported"));
  CHECK_THAT(local.output, Catch::Contains(
                               "line 3, column 1 (Designator): duplicate designator R1: it is "
                               "also on line 2"));
  auto absent = run_cli(dir, {"import-bom", "--config", cfg, "--product", "p1", good});
  INFO(absent.output);
  CHECK(absent.code == 1);
  CHECK_THAT(absent.output, Catch::Contains("no edgemes daemon answers at http://127.0.0.1:" +
                                            std::to_string(port)));
  CHECK_THAT(absent.output, Catch::Contains("nothing was written"));
  CHECK(run_cli(dir, {"import-bom", "--config", cfg, good}).code == 2);  // no --product

  auto daemon = mes::start_daemon(dir, port, cfg);
  auto wrong = run_cli(dir, {"import-bom", "--config", dir.file("other.json"), "--product", "p1",
                             good});
  CHECK(wrong.code == 2);  // no such config
  write_file(dir.file("bad-token"), "nope\n");
  auto unauthorised = run_cli(dir, {"import-bom", "--config", cfg, "--token-file",
                                    dir.file("bad-token"), "--product", "p1", good});
  INFO(unauthorised.output);
  CHECK(unauthorised.code == 1);
  CHECK_THAT(unauthorised.output, Catch::Contains("HTTP 401 unauthorized"));
  auto imported = run_cli(dir, {"import-bom", "--config", cfg, "--token-file", dir.file("token"),
                                "--product", "p1", "--name", "Panel 1", good});
  INFO(imported.output);
  CHECK(imported.code == 0);
  CHECK_THAT(imported.output, Catch::Contains("as product p1 BOM revision 1: 4 items, 10 "
                                              "components"));
  // The token from the environment (inherited by the child).
  ::setenv("EDGEMES_TOKEN", token.c_str(), 1);
  auto second = run_cli(dir, {"import-bom", "--config", cfg, "--product", "p1", good});
  ::unsetenv("EDGEMES_TOKEN");
  CHECK(second.code == 0);
  CHECK_THAT(second.output, Catch::Contains("BOM revision 2"));

  const std::vector<std::string> auth{"--config", cfg, "--token-file", dir.file("token")};
  auto wo = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "work-order");
    args.insert(args.end(), auth.begin(), auth.end());
    return run_cli(dir, args);
  };
  auto created = wo({"create", "--id", "WO-7", "--product", "p1", "--quantity", "20", "--line",
                     "smt1", "--revision", "1"});
  INFO(created.output);
  CHECK(created.code == 0);
  CHECK_THAT(created.output, Catch::Contains("work order WO-7 created: product p1 BOM revision 1"));
  auto started = wo({"start", "WO-7"});
  CHECK(started.code == 0);
  CHECK_THAT(started.output, Catch::Contains("WO-7: created -> running"));
  auto illegal = wo({"start", "WO-7"});
  CHECK(illegal.code == 1);
  CHECK_THAT(illegal.output, Catch::Contains("409 illegal_transition"));
  auto shown = wo({"show", "WO-7"});
  CHECK(shown.code == 0);
  CHECK_THAT(shown.output, Catch::Contains("\"status\": \"running\""));
  CHECK(wo({"complete", "WO-7"}).code == 0);
  auto listed = wo({"list", "--status", "completed"});
  CHECK(listed.code == 0);
  CHECK_THAT(listed.output, Catch::Contains("\"id\": \"WO-7\""));
  CHECK(wo({"frobnicate"}).code == 2);

  ro_db db(dir.file("mes.db"));
  CHECK(db.integer("SELECT count(*) FROM bom_revisions") == 2);
  CHECK(db.rows("SELECT name FROM products")[0][0] == "Panel 1");
  CHECK(db.integer("SELECT count(*) FROM work_orders WHERE status='completed'") == 1);
}
