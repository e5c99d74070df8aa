// The HTTP JSON API v1 of a real edgemes daemon, over 127.0.0.1: every
// class of bad request gets its documented JSON error and leaves the daemon
// healthy and its data intact; the reads answer what docs/API.md promises.
#include "tests/api/api_fixture.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

using namespace edgemes::test;
using namespace edgemes::test::api;

namespace {

const std::string M = "/api/v1/machines/smt1-placer1";

struct bad_case {
  std::string target;
  int status;
  std::string code;     // "" = any code
  std::string mention;  // must appear in the message (the parameter, the id)
};

std::vector<bad_case> bad_cases() {
  std::vector<bad_case> t{
      // metric
      {M + "/samples", 400, "bad_parameter", "'metric'"},
      {M + "/samples?metric=", 400, "bad_parameter", "'metric'"},
      {M + "/series?from=0", 400, "bad_parameter", "'metric'"},
      {M + "/samples?metric=nope", 404, "unknown_metric", "'nope'"},
      {M + "/series?metric=nope", 404, "unknown_metric", "'nope'"},
      {M + "/samples?metric=%FF%FE", 404, "unknown_metric", "no metric"},
      {M + "/samples?metric=" + std::string(200, 'm'), 404, "unknown_metric", "no metric"},
      // machine ids
      {"/api/v1/machines/nope-42", 404, "unknown_machine", "'nope-42'"},
      {"/api/v1/machines/nope-42/samples?metric=x", 404, "unknown_machine", "'nope-42'"},
      {"/api/v1/machines/nope-42/series?metric=x", 404, "unknown_machine", "'nope-42'"},
      {"/api/v1/machines/nope-42/states", 404, "unknown_machine", "'nope-42'"},
      {"/api/v1/machines/a%20b", 404, "unknown_machine", "no machine"},
      {"/api/v1/machines/%2E%2E", 404, "unknown_machine", "no machine"},
      {"/api/v1/machines/x%00y", 404, "unknown_machine", "no machine"},
      {"/api/v1/machines/%27%20OR%201%3D1%20--/states", 404, "unknown_machine", "no machine"},
      {"/api/v1/machines/..%2F..%2Fetc%2Fpasswd", 404, "", ""},
      {"/api/v1/machines/..%2F..%2Fetc%2Fpasswd/samples?metric=x", 404, "", ""},
      {"/api/v1/machines/%2e%2e%2f%2e%2e%2fetc%2fpasswd/states", 404, "", ""},
      {"/api/v1/machines/" + std::string(65, 'a'), 404, "unknown_machine", "no machine"},
      {"/api/v1/machines/%FF%FE", 404, "unknown_machine", "no machine"},
      {"/api/v1/machines/%C3%28/states", 404, "unknown_machine", "no machine"},
      // valid UTF-8 that the 64-byte cut of the echoed id would split
      {"/api/v1/machines/" + std::string(63, 'a') + "%C3%A9", 404, "unknown_machine",
       "no machine"},
      {"/api/v1/machines/%zz", 404, "unknown_machine", "no machine"},
      // lines
      {"/api/v1/machines?line=smt9", 404, "unknown_line", "line"},
      {"/api/v1/machines?line=..%2F..%2Fetc", 404, "unknown_line", "line"},
      {"/api/v1/machines?line=%FF", 404, "unknown_line", "line"},
      {"/api/v1/machines?line=", 404, "unknown_line", "line"},
      // range
      {M + "/samples?metric=head_temp_c&from=2000&to=1000", 400, "bad_parameter", "'from'"},
      {M + "/samples?metric=head_temp_c&from=1000&to=1000", 400, "bad_parameter", "'from'"},
      {M + "/states?from=2026-11-25T16:30:00Z&to=2026-11-25T16:29:59.999Z", 400,
       "bad_parameter", "'from'"},
      {M + "/series?metric=head_temp_c&to=0", 400, "bad_parameter", "'from'"},
      {M + "/states?from=253402300799999", 400, "bad_parameter", "'from'"},
      // limit
      {M + "/samples?metric=head_temp_c&limit=0", 400, "bad_parameter", "'limit'"},
      {M + "/samples?metric=head_temp_c&limit=-1", 400, "bad_parameter", "'limit'"},
      {M + "/samples?metric=head_temp_c&limit=100001", 400, "bad_parameter", "'limit'"},
      {M + "/samples?metric=head_temp_c&limit=abc", 400, "bad_parameter", "'limit'"},
      {M + "/samples?metric=head_temp_c&limit=", 400, "bad_parameter", "'limit'"},
      {M + "/samples?metric=head_temp_c&limit=1.5", 400, "bad_parameter", "'limit'"},
      {M + "/samples?metric=head_temp_c&limit=99999999999999999999999", 400, "bad_parameter",
       "'limit'"},
      // step_ms
      {M + "/series?metric=head_temp_c&step_ms=0", 400, "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&step_ms=-1000", 400, "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&step_ms=abc", 400, "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&step_ms=1e3", 400, "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&step_ms=1", 400, "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&from=0&to=100000000&step_ms=9999", 400, "bad_parameter",
       "'step_ms'"},
      // agg
      {M + "/series?metric=head_temp_c&agg=median", 400, "bad_parameter", "'agg'"},
      {M + "/series?metric=head_temp_c&agg=AVG", 400, "bad_parameter", "'agg'"},
      {M + "/series?metric=head_temp_c&agg=", 400, "bad_parameter", "'agg'"},
      // unknown and repeated parameters
      {"/api/v1/health?verbose=1", 400, "bad_parameter", "'verbose'"},
      {"/api/v1/lines?x=1", 400, "bad_parameter", "'x'"},
      {"/api/v1/machines?lines=smt1", 400, "bad_parameter", "'lines'"},
      {M + "?metric=head_temp_c", 400, "bad_parameter", "'metric'"},
      {M + "/samples?metric=head_temp_c&limt=5", 400, "bad_parameter", "'limt'"},
      {M + "/samples?metric=head_temp_c&step_ms=1000", 400, "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&limit=5", 400, "bad_parameter", "'limit'"},
      {M + "/states?metric=head_temp_c", 400, "bad_parameter", "'metric'"},
      // (cpp-httplib 0.11 folds an identical key=value pair repeated into one before we see it)
      {M + "/samples?metric=head_temp_c&metric=cycle_time_s", 400, "bad_parameter", "'metric'"},
      {M + "/samples?metric=head_temp_c&from=0&from=1", 400, "bad_parameter", "'from'"},
      {"/api/v1/machines?line=smt1&line=smt2", 400, "bad_parameter", "'line'"},
      {M + "/samples?metric=head_temp_c&%FF=1", 400, "bad_parameter", "unknown parameter"},
      // valid UTF-8 that the 40-byte cut of the echoed name would split
      {M + "/samples?metric=head_temp_c&" + std::string(39, 'p') + "%C3%A9=1", 400,
       "bad_parameter", "unknown parameter"},
      {M + "/samples?metric=head_temp_c&" + std::string(5000, 'p') + "=1", 400, "bad_parameter",
       "unknown parameter"},
      // unknown paths
      {"/api/v1/nope", 404, "not_found", "endpoint"},
      {"/api/v2/lines", 404, "not_found", "endpoint"},
      {"/api/v1/", 404, "not_found", "endpoint"},
      {"/api/v1/floor/", 404, "not_found", "endpoint"},
      {"/api/v1/lines/smt1/summary/x", 404, "not_found", "endpoint"},
      {"/api/v1/lines/", 404, "not_found", "endpoint"},
      {M + "/", 404, "not_found", "endpoint"},
      {M + "/bogus", 404, "not_found", "endpoint"},
      {"/api/v1/machines/smt1-placer1/samples/x?metric=head_temp_c", 404, "not_found",
       "endpoint"},
      // SQL fragments in the other parameters (from/to: the loop below)
      {M + "/samples?metric=head_temp_c%27%3B%20DROP%20TABLE%20telemetry%3B--", 404,
       "unknown_metric", "no metric"},
      {"/api/v1/machines?line=smt1%27%20OR%20%271%27%3D%271", 404, "unknown_line", "line"},
      {M + "/samples?metric=head_temp_c&limit=1%20OR%201%3D1", 400, "bad_parameter", "'limit'"},
      {M + "/series?metric=head_temp_c&step_ms=1000%3BDELETE%20FROM%20telemetry", 400,
       "bad_parameter", "'step_ms'"},
      {M + "/series?metric=head_temp_c&agg=avg)%20FROM%20telemetry--", 400, "bad_parameter",
       "'agg'"},
      // a range of 100 years at 1 s steps: too many buckets
      {M + "/series?metric=head_temp_c&from=0&to=3155760000000&step_ms=1000", 400,
       "bad_parameter", "'step_ms'"},
      // too long for the request line: 100 KB of query string
      {M + "/samples?metric=head_temp_c&x=" + std::string(100 * 1024, 'x'), 414, "uri_too_long",
       "URI"},
  };
  // Bad times, each as from and as to.
  for (std::string v : {"abc", "-1", "NaN", "nan", "inf", "1e999", "1.5", "0x10",
                        "99999999999999999999999", "253402300800000", "", "now",
                        "1%3BDROP%20TABLE%20telemetry", "1;DROP%20TABLE%20telemetry",
                        "%27%20OR%201%3D1%20--", "2026-02-30T00:00:00Z", "2026-11-25T16:30:00",
                        "2026-11-25", "%FF", "-2026-11-25T16:30:00Z"})
    for (std::string p : {"from", "to"})
      t.push_back({M + "/samples?metric=head_temp_c&" + p + "=" + v, 400, "bad_parameter",
                   "'" + p + "'"});
  return t;
}

bool is_json_type(const std::string& content_type) {
  return content_type.rfind("application/json", 0) == 0;
}

// Checks the {"error": {"code", "message"}} shape and returns the message
// ("" when the shape is wrong). CHECKs only: one bad row must not hide the rest.
std::string check_error(const reply& r, int status, const std::string& code) {
  CHECK(r.status == status);
  CHECK(is_json_type(r.content_type));
  bool shaped = r.doc.is_object() && r.doc.size() == 1 && r.doc.contains("error") &&
                r.doc["error"].is_object() && r.doc["error"]["code"].is_string() &&
                r.doc["error"]["message"].is_string();
  CHECK(shaped);
  if (!shaped)
    return "";
  const auto& e = r.doc["error"];
  if (!code.empty())
    CHECK(e["code"] == code);
  CHECK_FALSE(e["message"].get<std::string>().empty());
  return e["message"];
}

std::string shorten(const std::string& s) {
  return s.size() > 160 ? s.substr(0, 160) + "... (" + std::to_string(s.size()) + " bytes)" : s;
}

// "2026-11-25T16:30:00.250Z", shifted to the given UTC offset in minutes.
std::string rfc3339(int64_t ms, int offset_min = 0) {
  std::time_t secs = static_cast<std::time_t>((ms + offset_min * 60000LL) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
  std::string zone = "Z";
  if (offset_min != 0) {
    char z[32];
    int a = std::abs(offset_min);
    std::snprintf(z, sizeof z, "%c%02d:%02d", offset_min > 0 ? '+' : '-', a / 60, a % 60);
    zone = z;
  }
  return std::string(buf) + frac + zone;
}

json ok_json(int port, const std::string& target) {
  auto r = get(port, target);
  INFO(target << " -> " << r.status << " " << shorten(r.body));
  REQUIRE(r.status == 200);
  CHECK(is_json_type(r.content_type));
  REQUIRE(r.doc.is_object());
  return r.doc;
}

// All points of one metric in [from, to) in one request.
json all_points(int port, const std::string& metric, int64_t from, int64_t to) {
  auto doc = ok_json(port, M + "/samples?metric=" + metric + "&from=" + std::to_string(from) +
                               "&to=" + std::to_string(to) + "&limit=100000");
  REQUIRE(doc["truncated"] == false);
  return doc["points"];
}

} // namespace

TEST_CASE("every bad request gets its JSON error naming the parameter, and nothing is lost",
          "[api]") {
  auto& d = daemon::shared();
  auto rows_before = d.count_rows(stored_polls + " t");
  REQUIRE(rows_before > 0);

  for (const auto& c : bad_cases()) {
    INFO("GET " << shorten(c.target));
    auto r = get(d.port(), c.target);
    INFO("-> " << r.status << " " << r.content_type << " " << shorten(r.body));
    auto message = check_error(r, c.status, c.code);
    if (!c.mention.empty())
      CHECK(message.find(c.mention) != std::string::npos);
    CHECK(message.size() < 600);
  }

  auto health = get(d.port(), "/api/v1/health");
  CHECK(health.status == 200);
  CHECK(health.doc["status"] == "ok");
  CHECK(d.count_rows(stored_polls + " t") >= rows_before);
  CHECK(d.count_rows("machines") == 6);
  CHECK(d.count_rows("lines") == 2);
}

TEST_CASE("the API is read-only: other methods answer 405 with Allow: GET, HEAD", "[api]") {
  auto& d = daemon::shared();
  for (const std::string& path : std::vector<std::string>{"/api/v1/health", "/api/v1/lines", "/api/v1/machines", M,
                           M + "/samples?metric=head_temp_c", "/api/v1/nope", "/"}) {
    for (std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
      INFO(method << " " << path);
      auto r = call(d.port(), method, path);
      INFO("-> " << r.status << " " << r.body);
      auto message = check_error(r, 405, "method_not_allowed");
      CHECK(r.allow == "GET, HEAD");
      CHECK(message.find(method) != std::string::npos);
    }
  }
  CHECK(get(d.port(), "/api/v1/health").status == 200);
}

TEST_CASE("oversized requests get a JSON error and the daemon keeps serving", "[api]") {
  auto& d = daemon::shared();
  auto long_uri = get(d.port(), "/api/v1/lines?x=" + std::string(9000, 'x'));
  check_error(long_uri, 414, "uri_too_long");

  // cpp-httplib 0.11 refuses a header line over 8 KiB as a malformed request (no 431).
  auto big_header = call(d.port(), "GET", "/api/v1/lines", {{"X-Big", std::string(9000, 'h')}});
  CHECK(big_header.status >= 400);
  CHECK(big_header.status < 500);
  check_error(big_header, big_header.status, "");

  httplib::Client cli("127.0.0.1", d.port());
  auto big_body = cli.Post("/api/v1/lines", std::string(100 * 1024, 'b'), "text/plain");
  REQUIRE(big_body);
  CHECK(big_body->status == 413);
  CHECK(is_json_type(big_body->get_header_value("Content-Type")));

  CHECK(ok_json(d.port(), "/api/v1/health")["status"] == "ok");
}

TEST_CASE("/lines lists each line with its number of machines", "[api]") {
  auto& d = daemon::shared();
  auto doc = ok_json(d.port(), "/api/v1/lines");
  CHECK(doc == json::parse(R"({"lines": [
      {"id": "smt1", "name": "SMT Line 1", "machines": 5},
      {"id": "smt2", "name": "SMT Line 2", "machines": 1}]})"));
}

TEST_CASE("/machines lists every machine, and ?line= only that line's", "[api]") {
  auto& d = daemon::shared();
  auto all = ok_json(d.port(), "/api/v1/machines")["machines"];
  REQUIRE(all.size() == 6);
  std::set<std::string> ids;
  for (const auto& m : all) {
    ids.insert(m["id"]);
    for (auto key : {"id", "name", "line", "type", "adapter", "configured", "status", "state",
                     "state_since", "last_poll", "last_ok", "last_error", "polls"})
      CHECK(m.contains(key));
    CHECK(m["adapter"] == "sim");
    CHECK(m["configured"] == true);
    CHECK(m["polls"]["ok"].is_number_integer());
  }
  CHECK(ids == std::set<std::string>{"smt1-printer", "smt1-placer1", "smt1-placer2",
                                     "smt1-reflow", "smt1-aoi", "smt2-aoi"});

  auto smt2 = ok_json(d.port(), "/api/v1/machines?line=smt2")["machines"];
  REQUIRE(smt2.size() == 1);
  CHECK(smt2[0]["id"] == "smt2-aoi");
  CHECK(smt2[0]["line"] == "smt2");
  auto smt1 = ok_json(d.port(), "/api/v1/machines?line=smt1")["machines"];
  CHECK(smt1.size() == 5);
  for (const auto& m : smt1)
    CHECK(m["line"] == "smt1");
}

TEST_CASE("/machines/{id} shows the machine's status and the latest value of each metric",
          "[api]") {
  auto& d = daemon::shared();
  auto doc = ok_json(d.port(), M);
  CHECK(doc["id"] == "smt1-placer1");
  CHECK(doc["line"] == "smt1");
  CHECK(doc["type"] == "placer");
  CHECK(doc["status"] == "online");
  CHECK(doc["state"].is_string());
  CHECK(doc["last_ok"].is_number_integer());
  CHECK(doc["polls"]["ok"].get<int64_t>() > 0);
  const auto& metrics = doc["metrics"];
  REQUIRE(metrics.is_object());
  std::vector<std::string> names;
  for (auto it = metrics.begin(); it != metrics.end(); ++it)
    names.push_back(it.key());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"boards_total", "cycle_time_s", "feeder_errors",
                                          "head_temp_c", "nozzle_vacuum_kpa",
                                          "placements_total", "rejects_total"});
  const auto& temp = metrics["head_temp_c"];
  REQUIRE(temp["value"].is_number());
  REQUIRE(temp["ts"].is_number_integer());
  CHECK(temp["ts"].get<int64_t>() <= now_ms());

  // The latest value is the newest stored point.
  int64_t ts = temp["ts"];
  auto pts = all_points(d.port(), "head_temp_c", ts, ts + 1);
  REQUIRE(pts.size() == 1);
  CHECK(pts[0][1] == temp["value"]);
}

TEST_CASE("/samples defaults to the hour before now and to a limit of 1000", "[api]") {
  auto& d = daemon::shared();
  auto before = now_ms();
  auto doc = ok_json(d.port(), M + "/samples?metric=head_temp_c");
  auto after = now_ms();
  CHECK(doc["machine"] == "smt1-placer1");
  CHECK(doc["metric"] == "head_temp_c");
  CHECK(doc["limit"] == 1000);
  int64_t from = doc["from"], to = doc["to"];
  CHECK(to >= before);
  CHECK(to <= after);
  CHECK(to - from == 3600 * 1000);
  CHECK(doc["truncated"] == false);
  CHECK_FALSE(doc.contains("next_from"));
  const auto& pts = doc["points"];
  REQUIRE(pts.size() >= 40);
  int64_t prev = -1;
  for (const auto& p : pts) {
    REQUIRE(p.size() == 2);
    int64_t ts = p[0];
    CHECK(ts >= from);
    CHECK(ts < to);
    CHECK(ts > prev);
    CHECK(p[1].is_number());
    prev = ts;
  }
}

TEST_CASE("/samples pages with limit and next_from, repeating and skipping no point", "[api]") {
  auto& d = daemon::shared();
  auto newest = ok_json(d.port(), M)["metrics"]["head_temp_c"]["ts"].get<int64_t>();
  int64_t to = newest + 1;  // everything before it is committed: one poller, one writer, FIFO
  auto reference = all_points(d.port(), "head_temp_c", 0, to);
  REQUIRE(reference.size() >= 40);

  json paged = json::array();
  int64_t from = 0;
  int pages = 0;
  for (;;) {
    REQUIRE(++pages < 1000);
    auto doc = ok_json(d.port(), M + "/samples?metric=head_temp_c&limit=7&from=" +
                                     std::to_string(from) + "&to=" + std::to_string(to));
    const auto& pts = doc["points"];
    CHECK(doc["limit"] == 7);
    CHECK(pts.size() <= 7);
    for (const auto& p : pts)
      paged.push_back(p);
    if (doc["truncated"] == false) {
      CHECK_FALSE(doc.contains("next_from"));
      break;
    }
    REQUIRE(pts.size() == 7);
    REQUIRE(doc["next_from"] == pts.back()[0].get<int64_t>() + 1);
    from = doc["next_from"];
  }
  CHECK(paged == reference);
  CHECK(pages == static_cast<int>((reference.size() + 6) / 7));

  // A limit equal to the number of points is not truncated.
  auto exact = ok_json(d.port(), M + "/samples?metric=head_temp_c&from=0&to=" +
                                     std::to_string(to) +
                                     "&limit=" + std::to_string(reference.size()));
  CHECK(exact["truncated"] == false);
  CHECK(exact["points"] == reference);
}

TEST_CASE("from and to are inclusive and exclusive", "[api]") {
  auto& d = daemon::shared();
  auto pts = all_points(d.port(), "head_temp_c", 0, now_ms());
  REQUIRE(pts.size() >= 3);
  int64_t a = pts[0][0], b = pts[2][0];
  auto between = all_points(d.port(), "head_temp_c", a, b);
  REQUIRE(between.size() == 2);
  CHECK(between[0] == pts[0]);
  CHECK(between[1] == pts[1]);
}

TEST_CASE("RFC 3339 from and to give the same answer as epoch milliseconds", "[api]") {
  auto& d = daemon::shared();
  auto pts = all_points(d.port(), "head_temp_c", 0, now_ms());
  REQUIRE(pts.size() >= 10);
  int64_t from = pts[2][0], to = pts[8][0].get<int64_t>() + 1;
  auto epoch = ok_json(d.port(), M + "/samples?metric=head_temp_c&from=" + std::to_string(from) +
                                     "&to=" + std::to_string(to));
  CHECK(epoch["points"].size() == 7);
  for (int offset : {0, 60, -330, 14 * 60}) {
    auto target = M + "/samples?metric=head_temp_c&from=" + rfc3339(from, offset) +
                  "&to=" + rfc3339(to, offset);
    INFO(target);
    CHECK(ok_json(d.port(), target) == epoch);
  }
  auto series_epoch = ok_json(d.port(), M + "/series?metric=head_temp_c&step_ms=100&from=" +
                                            std::to_string(from) + "&to=" + std::to_string(to));
  auto series_rfc = ok_json(d.port(), M + "/series?metric=head_temp_c&step_ms=100&from=" +
                                          rfc3339(from) + "&to=" + rfc3339(to));
  CHECK(series_rfc == series_epoch);
}

TEST_CASE("/series defaults to avg over at most 300 buckets of a nice step, aligned to the epoch",
          "[api]") {
  auto& d = daemon::shared();
  auto doc = ok_json(d.port(), M + "/series?metric=head_temp_c");
  int64_t from = doc["from"], to = doc["to"], step = doc["step_ms"];
  CHECK(to - from == 3600 * 1000);
  CHECK(step == 20000);  // the smallest nice step >= 1 h / 300 = 12 s
  CHECK(doc["agg"] == "avg");
  REQUIRE(!doc["points"].empty());
  for (const auto& b : doc["points"]) {
    int64_t ts = b[0];
    CHECK(ts % step == 0);
    CHECK(ts > from - step);  // the first bucket may start before from
    CHECK(ts < to);
  }

  auto step_for = [&](int64_t span) {
    return ok_json(d.port(), M + "/series?metric=head_temp_c&from=0&to=" + std::to_string(span))
        .at("step_ms")
        .get<int64_t>();
  };
  CHECK(step_for(60'000) == 1000);              // at least one second
  CHECK(step_for(1'500'001) == 10'000);         // 5 000.003 ms -> 10 s
  CHECK(step_for(8 * 3'600'000) == 120'000);    // 8 h -> 2 min
  CHECK(step_for(24 * 3'600'000) == 300'000);   // 24 h -> 5 min
  CHECK(step_for(7 * 86'400'000) == 3'600'000);           // a week -> 1 h (33.6 min wanted)
  CHECK(step_for(1000LL * 86'400'000) == 4 * 86'400'000);  // whole days beyond one
}

TEST_CASE("/series buckets agree with the samples they aggregate", "[api]") {
  auto& d = daemon::shared();
  int64_t to = ok_json(d.port(), M)["metrics"]["head_temp_c"]["ts"].get<int64_t>() + 1;
  int64_t from = to - 2000;
  auto pts = all_points(d.port(), "head_temp_c", from, to);
  REQUIRE(pts.size() >= 10);
  auto series = [&](const std::string& agg) {
    auto doc = ok_json(d.port(), M + "/series?metric=head_temp_c&step_ms=500&agg=" + agg +
                                     "&from=" + std::to_string(from) +
                                     "&to=" + std::to_string(to));
    CHECK(doc["agg"] == agg);
    CHECK(doc["step_ms"] == 500);
    return doc["points"];
  };
  double total = 0, lo = 1e300, hi = -1e300;
  for (const auto& p : pts) {
    total += p[1].get<double>();
    lo = std::min(lo, p[1].get<double>());
    hi = std::max(hi, p[1].get<double>());
  }
  double counted = 0, summed = 0, bmin = 1e300, bmax = -1e300;
  for (const auto& b : series("count"))
    counted += b[1].get<double>();
  for (const auto& b : series("sum"))
    summed += b[1].get<double>();
  for (const auto& b : series("min"))
    bmin = std::min(bmin, b[1].get<double>());
  for (const auto& b : series("max"))
    bmax = std::max(bmax, b[1].get<double>());
  CHECK(counted == static_cast<double>(pts.size()));
  CHECK(summed == Approx(total));
  CHECK(bmin == lo);
  CHECK(bmax == hi);
  auto last = series("last");
  REQUIRE(!last.empty());
  CHECK(last.back()[1] == pts.back()[1]);
  CHECK(series("avg").size() == last.size());
}

TEST_CASE("/states reports state intervals and the share of time in each", "[api]") {
  auto& d = daemon::shared();
  auto doc = ok_json(d.port(), M + "/states");
  CHECK(doc["machine"] == "smt1-placer1");
  int64_t from = doc["from"], to = doc["to"];
  CHECK(to - from == 3600 * 1000);
  const auto& intervals = doc["intervals"];
  REQUIRE(!intervals.empty());
  int64_t in_intervals = 0, prev_to = from;
  for (const auto& i : intervals) {
    CHECK(i["state"].is_string());
    int64_t a = i["from"], b = i["to"];
    CHECK(a >= prev_to);
    CHECK(a < b);
    CHECK(b <= to);
    in_intervals += b - a;
    prev_to = b;
  }
  int64_t in_shares = 0;
  double share_sum = 0;
  for (const auto& s : doc["time_in_state"]) {
    CHECK(s["state"].is_string());
    in_shares += s["ms"].get<int64_t>();
    share_sum += s["share"].get<double>();
  }
  CHECK(in_shares == in_intervals);
  CHECK(share_sum == Approx(1.0));

  // SEMI E10 classes: the fixture maps placers' IDLE to ENG and this
  // machine's ALARM to SDT; RUN and DOWN come from the built-in map.
  const std::map<std::string, std::string> expected{
      {"RUN", "PRD"}, {"IDLE", "ENG"}, {"ALARM", "SDT"}, {"DOWN", "UDT"}, {"OFFLINE", "OFFLINE"}};
  for (const auto& i : intervals) {
    INFO(i.dump());
    REQUIRE(expected.count(i["state"]));
    CHECK(i["e10"] == expected.at(i["state"]));
  }
  int64_t in_classes = 0;
  std::set<std::string> classes_seen;
  for (const auto& c : doc["time_in_e10"]) {
    INFO(c.dump());
    CHECK(classes_seen.insert(c["class"].get<std::string>()).second);
    int64_t ms = 0;
    for (const auto& text : c["states"]) {
      CHECK(expected.at(text) == c["class"]);
      for (const auto& s : doc["time_in_state"])
        if (s["state"] == text)
          ms += s["ms"].get<int64_t>();
    }
    CHECK(c["ms"] == ms);
    in_classes += ms;
  }
  CHECK(in_classes == in_intervals);
  CHECK(classes_seen.count("PRD"));
  // The other placer keeps the built-in ALARM -> UDT.
  auto other = ok_json(d.port(), "/api/v1/machines/smt1-placer2/states");
  for (const auto& i : other["intervals"])
    if (i["state"] == "ALARM")
      CHECK(i["e10"] == "UDT");
    else if (i["state"] == "IDLE")
      CHECK(i["e10"] == "ENG");

  auto empty = ok_json(d.port(), M + "/states?from=0&to=1000");
  CHECK(empty["intervals"] == json::array());
  CHECK(empty["time_in_state"] == json::array());
  CHECK(empty["time_in_e10"] == json::array());
}

TEST_CASE("/health reports the writer, the database and memory", "[api]") {
  auto& d = daemon::shared();
  auto doc = ok_json(d.port(), "/api/v1/health");
  CHECK(doc["status"] == "ok");
  CHECK(doc["site"] == "api-test");
  CHECK(doc["database"]["path"] == d.db_path());
  CHECK(doc["writer"]["rows_committed"].get<int64_t>() > 0);
  CHECK(doc["writer"]["error"].is_null());
  // Memory: the process's RSS and SQLite's heap under its default cap.
  auto mem = doc["memory"];
  CHECK(mem["rss_kib"].get<int64_t>() > 1000);
  CHECK(mem["sqlite_bytes"].get<int64_t>() > 0);
  CHECK(mem["sqlite_highwater_bytes"].get<int64_t>() >= mem["sqlite_bytes"].get<int64_t>());
  CHECK(mem["sqlite_limit_bytes"] == 32768 * 1024);
  auto index = ok_json(d.port(), "/api/v1");
  CHECK(index["api"] == "/api/v1");
}

TEST_CASE("the index lists every route, and each GET route takes exactly the parameters listed",
          "[api]") {
  auto& d = daemon::shared();
  auto index = ok_json(d.port(), "/api/v1");
  REQUIRE(index["routes"].is_array());
  std::vector<std::string> listed_gets;
  for (const auto& r : index["routes"]) {
    INFO(r.dump());
    REQUIRE(r["about"].is_string());
    CHECK_FALSE(r["about"].get<std::string>().empty());
    if (r["method"] != "GET")
      continue;
    std::string path = r["path"];
    if (path != "/api/v1")
      listed_gets.push_back(path);
    // The table's parameters are the ones the router checks: an unknown one is
    // refused with exactly that list.
    std::string list;
    for (const auto& p : r["params"])
      list += (list.empty() ? "" : ", ") + p.get<std::string>();
    auto target = path;
    auto at = target.find("{id}");
    if (at != std::string::npos)
      target.replace(at, 4, path.rfind("/api/v1/lines/", 0) == 0 ? "smt1" : "smt1-placer1");
    auto message = check_error(get(d.port(), target + "?zz=1"), 400, "bad_parameter");
    CHECK(message.find(list.empty() ? "(this endpoint takes none)"
                                    : "(expected one of: " + list + ")") != std::string::npos);
  }
  CHECK(listed_gets == index["endpoints"].get<std::vector<std::string>>());
}
