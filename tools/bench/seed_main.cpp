// edgemes-seed: the seed's workload on SQLite, edgemes and PostgreSQL
// (tools/bench/seed.hpp; run by tools/bench/run-seed.sh, docs/BENCHMARKS.md).
//
//   edgemes-seed prefill --db FILE [--machines 100] [--metrics 20] [--ticks 2500]
//   edgemes-seed sqlite  --db FILE --journal wal|delete [run options]
//   edgemes-seed edgemes --db FILE [--interval-ms 10] [--machines 100] [run options]
//   edgemes-seed pg-load --pg CONNINFO --db FILE
//   edgemes-seed pg      --pg CONNINFO [--label NAME] [run options]
//   edgemes-seed first-serve --db FILE
//   edgemes-seed open --db FILE      (times opening the writer: migrates an older file)
// run options: [--readers 4] [--reads 500] [--writers 10] [--metrics 20] [--seed 1] [--max-s 60]
//              [--step-ms N]  (default: the API's default step for the 2 h window, 30 s;
//                              12000 = the read measured before the rollups)
//
// Each command prints one JSON line on stdout; exit 0, 1 on failure, 2 on usage.
#include "tools/bench/seed.hpp"

#include "log/log.hpp"

#include <cstdio>
#include <map>
#include <string>

namespace {

using namespace edgemes::bench::seed;

int usage() {
  std::fputs("usage: edgemes-seed prefill|sqlite|edgemes|pg-load|pg|first-serve|open --db FILE ...\n"
             "       (see tools/bench/seed_main.cpp)\n", stderr);
  return 2;
}

int run(int argc, char** argv) {
  if (argc < 2)
    return usage();
  const std::string cmd = argv[1];
  std::map<std::string, std::string> a;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]).rfind("--", 0) != 0)
      return usage();
    a[argv[i]] = argv[i + 1];
  }
  if ((argc - 2) % 2 != 0)
    return usage();
  auto num = [&](const char* k, int64_t d) { return a.count(k) ? std::stoll(a[k]) : d; };
  auto text = [&](const char* k, const std::string& d) { return a.count(k) ? a[k] : d; };
  run_options o;
  o.db = text("--db", "");
  o.readers = num("--readers", o.readers);
  o.reads = num("--reads", o.reads);
  o.writers = num("--writers", o.writers);
  o.metrics = num("--metrics", o.metrics);
  o.seed = static_cast<uint64_t>(num("--seed", 1));
  o.max_s = static_cast<double>(num("--max-s", 60));
  o.step_ms = num("--step-ms", 0);
  if (cmd == "prefill") {
    dataset d;
    d.machines = num("--machines", d.machines);
    d.metrics = num("--metrics", d.metrics);
    d.ticks = num("--ticks", d.ticks);
    return prefill(o.db, d);
  }
  if (cmd == "sqlite")
    return run_sqlite(o, text("--journal", "wal"));
  if (cmd == "edgemes")
    return run_edgemes(o, num("--interval-ms", 10), num("--machines", 100));
  if (cmd == "first-serve")
    return first_serve_sqlite(o.db);
  if (cmd == "open")
    return open_sqlite(o.db);
#ifdef EDGEMES_HAVE_PQ
  if (cmd == "pg-load")
    return pg_load(text("--pg", ""), o.db);
  if (cmd == "pg") {
    o.db = text("--pg", "");
    return run_pg(o, text("--label", "pg"));
  }
#else
  if (cmd == "pg-load" || cmd == "pg") {
    std::fputs("edgemes-seed: built without libpq (apt-get install libpq-dev, reconfigure)\n", stderr);
    return 1;
  }
#endif
  return usage();
}

} // namespace

int main(int argc, char** argv) {
  edgemes::log::set_min_level(edgemes::log::level::warn);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgemes-seed: %s\n", e.what());
    return 1;
  }
}
