// tests/storage/sql_functions_test: storage/sql_functions.cpp — edgemes_chunk
// and edgemes_log read blobs stored in a real SQLite file, through the
// library and through the stock sqlite3 shell with the loadable extension.
#include "storage/chunk.hpp"
#include "storage/log_batch.hpp"
#include "storage/sql_functions.hpp"
#include "tests/support/test_support.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace edgemes::storage;
namespace t = edgemes::test;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t t0 = 1'767'225'600'000;

struct point;

// A connection to a file, closed on destruction.
class db_file {
public:
  explicit db_file(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
  }
  ~db_file() { sqlite3_close(db_); }
  db_file(const db_file&) = delete;
  db_file& operator=(const db_file&) = delete;
  sqlite3* get() const { return db_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  void insert_blob(const std::string& sql, int64_t key, const std::string& blob) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_blob(st, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    REQUIRE(rc == SQLITE_DONE);
  }
  // Every row of `sql` as text cells joined by '|' (the shell's list mode);
  // SQLITE_OK, or the error code with its message in `error`.
  int query(const std::string& sql, std::vector<std::string>& rows, std::string& error) {
    rows.clear();
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      error = sqlite3_errmsg(db_);
      return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::string line;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        if (i)
          line += '|';
        const unsigned char* text = sqlite3_column_text(st, i);
        line += text ? reinterpret_cast<const char*>(text) : "";
      }
      rows.push_back(line);
    }
    if (rc != SQLITE_DONE)
      error = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  // Rows of (machine_id, ts, slot, value), or (ts, slot, value) with machine -1.
  std::vector<point> points(const std::string& sql);
  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> out;
    std::string error;
    const int rc = query(sql, out, error);
    INFO(sql << ": " << error);
    REQUIRE(rc == SQLITE_OK);
    return out;
  }

private:
  sqlite3* db_ = nullptr;
};

// One decoded point as the functions return it.
struct point {
  int64_t machine;
  int64_t ts;
  int64_t slot;
  double value;
};

bool operator==(const point& a, const point& b) {
  return a.machine == b.machine && a.ts == b.ts && a.slot == b.slot &&
         std::memcmp(&a.value, &b.value, sizeof a.value) == 0;  // bit for bit
}
std::ostream& operator<<(std::ostream& out, const point& p) {
  out.precision(17);
  return out << "{" << p.machine << ", " << p.ts << ", " << p.slot << ", " << p.value << "}";
}

std::vector<point> db_file::points(const std::string& sql) {
  std::vector<point> out;
  sqlite3_stmt* st = nullptr;
  INFO(sql << ": " << sqlite3_errmsg(db_));
  REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  const int cols = sqlite3_column_count(st);
  REQUIRE((cols == 3 || cols == 4));
  const int first = cols - 3;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    CHECK(sqlite3_column_type(st, first + 2) == SQLITE_FLOAT);
    out.push_back({first ? sqlite3_column_int64(st, 0) : -1, sqlite3_column_int64(st, first),
                   sqlite3_column_int64(st, first + 1), sqlite3_column_double(st, first + 2)});
  }
  sqlite3_finalize(st);
  REQUIRE(rc == SQLITE_DONE);
  return out;
}

// Machine `id`'s polls: n polls of 3 slots, slot 1 missing every third poll,
// slot 2 a value that needs the XOR form.
struct machine_data {
  int64_t id;
  std::vector<int64_t> ts;
  std::vector<double> values;  // [i * 3 + s]
};

machine_data make_machine(int64_t id, size_t n, int64_t start) {
  machine_data m{id, {}, {}};
  for (size_t i = 0; i < n; ++i) {
    m.ts.push_back(start + static_cast<int64_t>(i) * 1000 + static_cast<int64_t>(i % 3));
    m.values.push_back(double(id * 1000 + static_cast<int64_t>(i)));
    m.values.push_back(i % 3 == 0 ? nan_v : std::round((245.0 + double(i % 7) * 0.1) * 10) / 10);
    m.values.push_back(3.141592653589793 * double(i + 1));
  }
  return m;
}

std::vector<point> points_of(const machine_data& m, bool with_machine = true) {
  std::vector<point> out;
  for (size_t i = 0; i < m.ts.size(); ++i)
    for (size_t s = 0; s < 3; ++s)
      if (!std::isnan(m.values[i * 3 + s]))
        out.push_back({with_machine ? m.id : -1, m.ts[i], static_cast<int64_t>(s), m.values[i * 3 + s]});
  return out;
}

std::string chunk_of(const machine_data& m) {
  std::string out;
  chunk::encode(m.ts.data(), m.values.data(), m.ts.size(), 3, out);
  return out;
}

const char* const chunk_rows_sql =
    "SELECT c.machine_id, d.ts, d.slot, d.value "
    "FROM chunks c, edgemes_chunk(c.data) d ORDER BY c.machine_id, d.ts, d.slot";

// A file with table chunks(machine_id, data) holding machines 1 and 2.
struct chunk_file {
  t::temp_dir dir;
  std::string path = dir.file("chunks.db");
  machine_data m1 = make_machine(1, 150, t0);
  machine_data m2 = make_machine(2, 3, t0 + 500);
  std::vector<point> expected;

  chunk_file() {
    db_file db(path);
    db.exec("CREATE TABLE chunks(machine_id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    db.insert_blob("INSERT INTO chunks VALUES (?, ?)", 1, chunk_of(m1));
    db.insert_blob("INSERT INTO chunks VALUES (?, ?)", 2, chunk_of(m2));
    for (const auto* m : {&m1, &m2})
      for (const auto& p : points_of(*m))
        expected.push_back(p);
  }
};

} // namespace

TEST_CASE("edgemes_chunk returns every present value of every stored chunk", "[sql_functions]") {
  chunk_file f;
  db_file db(f.path);
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  CHECK(db.points(chunk_rows_sql) == f.expected);
  // Without ORDER BY the rows already come oldest first, then by slot.
  CHECK(db.points("SELECT d.ts, d.slot, d.value FROM chunks c, edgemes_chunk(c.data) d "
                  "WHERE c.machine_id = 1") == points_of(f.m1, false));
}

TEST_CASE("ORDER BY ts sorts the rows of all chunks, not each chunk's alone", "[sql_functions]") {
  chunk_file f;  // machine 2's polls fall between machine 1's
  db_file db(f.path);
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  std::vector<point> want = f.expected;
  for (auto& p : want)
    p.machine = -1;
  std::stable_sort(want.begin(), want.end(), [](const point& a, const point& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.slot < b.slot;
  });
  const auto got = db.points("SELECT d.ts, d.slot, d.value FROM chunks c, edgemes_chunk(c.data) d "
                             "ORDER BY d.ts, d.slot");
  CHECK(got == want);
}

TEST_CASE("edgemes_chunk filters by slot and reads the blob as its argument", "[sql_functions]") {
  chunk_file f;
  db_file db(f.path);
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  std::vector<point> want;
  for (const auto& p : points_of(f.m1, false))
    if (p.slot == 1)
      want.push_back(p);
  const std::string from = " FROM chunks c, edgemes_chunk(c.data) d WHERE c.machine_id = 1 AND ";
  CHECK(db.points("SELECT d.ts, d.slot, d.value" + from + "d.slot = 1") == want);
  CHECK(db.points("SELECT d.ts, d.slot, d.value" + from + "d.slot = 1.0") == want);
  CHECK(db.points("SELECT d.ts, d.slot, d.value" + from + "d.slot = '1'") == want);
  CHECK(db.rows("SELECT count(*)" + from + "d.slot = 1.5") == std::vector<std::string>{"0"});
  CHECK(db.rows("SELECT count(*)" + from + "d.slot = -1") == std::vector<std::string>{"0"});
  CHECK(db.rows("SELECT count(*)" + from + "d.slot = 3") == std::vector<std::string>{"0"});
  CHECK(db.rows("SELECT count(*)" + from + "d.slot = NULL") == std::vector<std::string>{"0"});
  CHECK(db.rows("SELECT count(*) FROM chunks c, edgemes_chunk(c.data) d WHERE d.data = c.data") ==
        std::vector<std::string>{std::to_string(f.expected.size())});
}

TEST_CASE("edgemes_chunk of NULL has no rows and without an argument is an error", "[sql_functions]") {
  t::temp_dir dir;
  db_file db(dir.file("x.db"));
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  CHECK(db.rows("SELECT count(*) FROM edgemes_chunk(NULL)") == std::vector<std::string>{"0"});
  CHECK(db.rows("SELECT count(*) FROM edgemes_log(NULL)") == std::vector<std::string>{"0"});
  std::vector<std::string> rows;
  std::string error;
  CHECK(db.query("SELECT * FROM edgemes_chunk", rows, error) != SQLITE_OK);
  CHECK(db.query("SELECT * FROM edgemes_log", rows, error) != SQLITE_OK);
  // Eponymous only: there is nothing to CREATE.
  CHECK(db.query("CREATE VIRTUAL TABLE t USING edgemes_chunk", rows, error) != SQLITE_OK);
}

TEST_CASE("edgemes_chunk of bytes that are no chunk is an error naming the function", "[sql_functions]") {
  chunk_file f;
  db_file db(f.path);
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  std::string good = chunk_of(f.m1);
  db.insert_blob("INSERT INTO chunks VALUES (?, ?)", 3, good.substr(0, good.size() - 1));
  std::vector<std::string> rows;
  std::string error;
  CHECK(db.query(chunk_rows_sql, rows, error) == SQLITE_ERROR);
  CHECK(error == "edgemes_chunk: malformed chunk");
  CHECK(db.query("SELECT * FROM edgemes_chunk(x'00')", rows, error) == SQLITE_ERROR);
  CHECK(error == "edgemes_chunk: malformed chunk");
  CHECK(db.query("SELECT * FROM edgemes_log(x'4c01')", rows, error) == SQLITE_ERROR);
  CHECK(error == "edgemes_log: malformed batch");
}

TEST_CASE("edgemes_log returns every machine's polls of each stored batch", "[sql_functions]") {
  t::temp_dir dir;
  const std::string path = dir.file("log.db");
  const machine_data a = make_machine(7, 4, t0), b = make_machine(3, 2, t0 + 20), c = make_machine(11, 1, t0 - 5);
  std::vector<std::vector<double>> vals;  // per poll, kept alive for the poll structs
  std::vector<log_batch::poll> polls;
  for (const auto* m : {&a, &b, &c})
    for (size_t i = 0; i < m->ts.size(); ++i)
      vals.push_back(std::vector<double>(m->values.begin() + static_cast<ptrdiff_t>(i * 3),
                                         m->values.begin() + static_cast<ptrdiff_t>(i * 3 + 3)));
  size_t k = 0;
  for (const auto* m : {&a, &b, &c})
    for (size_t i = 0; i < m->ts.size(); ++i)
      polls.push_back({m->id, m->ts[i], &vals[k++]});
  std::string batch;
  log_batch::encode(polls, batch);
  {
    db_file db(path);
    db.exec("CREATE TABLE ingest_log(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    db.insert_blob("INSERT INTO ingest_log VALUES (?, ?)", 1, batch);
  }
  db_file db(path);
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  std::vector<point> want;
  for (const auto* m : {&b, &a, &c})  // machine_id ascending
    for (const auto& p : points_of(*m))
      want.push_back(p);
  const std::string select = "SELECT d.machine_id, d.ts, d.slot, d.value FROM ingest_log l, edgemes_log(l.data) d";
  CHECK(db.points(select) == want);
  CHECK(db.points(select + " ORDER BY d.machine_id, d.ts, d.slot") == want);
  CHECK(db.points(select + " WHERE d.machine_id = 7") == points_of(a));
  CHECK(db.points(select + " WHERE d.machine_id = 8").empty());
  std::vector<point> slot2;
  for (const auto& p : want)
    if (p.slot == 2)
      slot2.push_back(p);
  CHECK(db.points(select + " WHERE d.slot = 2") == slot2);
}

TEST_CASE("edgemes_log of a cut or damaged batch is an error or rows, never a crash", "[sql_functions][malformed]") {
  t::temp_dir dir;
  db_file db(dir.file("log.db"));
  REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
  db.exec("CREATE TABLE ingest_log(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  // Machines with one poll (poll records) and with several (chunks).
  const machine_data a = make_machine(2, 1, t0), b = make_machine(5, 3, t0 + 40), c = make_machine(6, 1, t0 + 7);
  std::vector<std::vector<double>> vals;
  for (const auto* m : {&a, &b, &c})
    for (size_t i = 0; i < m->ts.size(); ++i)
      vals.push_back(std::vector<double>(m->values.begin() + static_cast<ptrdiff_t>(i * 3),
                                         m->values.begin() + static_cast<ptrdiff_t>(i * 3 + 3)));
  std::vector<log_batch::poll> polls;
  size_t k = 0;
  for (const auto* m : {&a, &b, &c})
    for (size_t i = 0; i < m->ts.size(); ++i)
      polls.push_back({m->id, m->ts[i], &vals[k++]});
  std::string batch;
  log_batch::encode(polls, batch);
  const std::string select = "SELECT d.machine_id, d.ts, d.slot, d.value FROM ingest_log l, edgemes_log(l.data) d";
  db.insert_blob("INSERT INTO ingest_log VALUES (?, ?)", 1, batch);
  std::vector<point> want;
  for (const auto* m : {&a, &b, &c})
    for (const auto& p : points_of(*m))
      want.push_back(p);
  CHECK(db.points(select) == want);

  std::vector<std::string> rows;
  std::string error;
  for (size_t len = 0; len < batch.size(); ++len) {
    db.exec("DELETE FROM ingest_log");
    db.insert_blob("INSERT INTO ingest_log VALUES (?, ?)", 1, batch.substr(0, len));
    INFO("length " << len << " of " << batch.size());
    CHECK(db.query(select, rows, error) == SQLITE_ERROR);
    CHECK(error == "edgemes_log: malformed batch");
  }
  std::mt19937_64 rng(14);
  for (int round = 0; round < 1000; ++round) {
    std::string damaged = batch;
    damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    db.exec("DELETE FROM ingest_log");
    db.insert_blob("INSERT INTO ingest_log VALUES (?, ?)", 1, damaged);
    const int rc = db.query(select, rows, error);
    CHECK((rc == SQLITE_OK || (rc == SQLITE_ERROR && error == "edgemes_log: malformed batch")));
  }
}

TEST_CASE("the stock sqlite3 shell reads chunks with the edgemes extension", "[sql_functions][shell]") {
  const std::string shell = "/usr/bin/sqlite3";
  if (::access(shell.c_str(), X_OK) != 0) {
    WARN("no " << shell << ": test skipped");
    return;
  }
  const std::string module = std::string(EDGEMES_BINARY_DIR) + "/bin/edgemes";
  REQUIRE(::access((module + ".so").c_str(), R_OK) == 0);
  chunk_file f;
  // A view over the function, as schema v4 defines `samples`.
  {
    db_file db(f.path);
    db.exec("CREATE VIEW points AS SELECT c.machine_id, d.ts, d.slot, d.value "
            "FROM chunks c, edgemes_chunk(c.data) d");
  }
  // The shell's text must be the library's text of the same query (the
  // library reads the values bit for bit above; '%!.17g' keeps every bit).
  const std::string query = "SELECT machine_id, ts, slot, printf('%!.17g', value) FROM points "
                            "ORDER BY machine_id, ts, slot";
  std::vector<std::string> want;
  {
    db_file db(f.path);
    REQUIRE(register_sql_functions(db.get()) == SQLITE_OK);
    want = db.rows(query);
  }
  REQUIRE(want.size() == f.expected.size());
  const std::string log = f.dir.file("shell.log");
  t::process p({shell, f.path, "-cmd", ".load " + module, query}, log);
  REQUIRE(p.wait(std::chrono::milliseconds(20000)) == 0);
  std::vector<std::string> got;
  std::istringstream in(p.log());
  for (std::string line; std::getline(in, line);)
    got.push_back(line);
  CHECK(got == want);
}
