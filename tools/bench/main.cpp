// edgemes-bench: ingest benchmarks (see docs/BENCHMARKS.md).
//
//   edgemes-bench ingest-raw --db FILE [--machines N] [--metrics N] [--samples N]
//                 [--batch-polls N] [--report-every N] [--statuses] [--json]
//   edgemes-bench ingest-pipeline --db FILE [--machines N] [--samples N]
//                 [--source synthetic|sim] [--metrics N] [--interval-ms N]
//                 [--max-batch N] [--flush-ms N] [--max-queue N] [--threads N]
//                 [--report-every N] [--json]
//   edgemes-bench oee-seed --db FILE --config-out FILE [--machines N] [--lines N]
//                 [--hours N] [--interval-ms N] [--port N]
//   edgemes-bench chunk-size [--source sim|synthetic] [--metrics N] [--machines N]
//                 [--interval-ms N] [--jitter-ms N] [--minutes N] [--window-s N] [--batch-ms N]
//
// The database file is deleted (with its -wal and -shm) before each run.
#include "tools/bench/bench.hpp"
#include "tools/bench/chunk_size.hpp"
#include "tools/bench/oee_seed.hpp"

#include "log/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

namespace {

using namespace edgemes::bench;

const char* const usage =
    "usage: edgemes-bench ingest-raw --db FILE [--machines 1000] [--metrics 20]\n"
    "                     [--samples 10000000] [--batch-polls 1000] [--report-every 1000000]\n"
    "                     [--statuses] [--json]\n"
    "       edgemes-bench ingest-pipeline --db FILE [--machines 1000] [--samples 10000000]\n"
    "                     [--source synthetic|sim] [--metrics 20] [--interval-ms 100]\n"
    "                     [--max-batch 5000] [--flush-ms 200] [--max-queue 200000]\n"
    "                     [--threads 0] [--scheduler sharing|stealing]\n"
    "                     [--report-every 1000000] [--json]\n"
    "       edgemes-bench chunk-size [--source sim|synthetic] [--metrics 20] [--machines 1000]\n"
    "                     [--interval-ms 1000] [--jitter-ms 3] [--minutes 60] [--window-s 120]\n"
    "                     [--batch-ms 500]\n"
    "       edgemes-bench oee-seed --db FILE --config-out FILE [--machines 1000] [--lines 10]\n"
    "                     [--hours 8] [--interval-ms 1000] [--port 8080]\n";

// "--name value" pairs and "--flag"s; unknown or malformed options are errors.
class args {
public:
  args(int argc, char** argv, const std::map<std::string, bool>& known) {
    for (int i = 2; i < argc; ++i) {
      std::string a = argv[i];
      auto it = known.find(a);
      if (it == known.end())
        throw std::invalid_argument("unknown option '" + a + "'");
      if (!it->second) {
        values_[a] = "1";
      } else if (i + 1 >= argc) {
        throw std::invalid_argument("option " + a + " needs a value");
      } else {
        values_[a] = argv[++i];
      }
    }
  }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  int64_t number(const std::string& name, int64_t fallback, int64_t min) const {
    auto it = values_.find(name);
    if (it == values_.end())
      return fallback;
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(it->second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != it->second.size() || v < min)
      throw std::invalid_argument(name + " must be a whole number >= " + std::to_string(min) +
                                  ", not '" + it->second + "'");
    return v;
  }

private:
  std::map<std::string, std::string> values_;
};

void read_common(const args& a, common_options& o) {
  o.db = a.text("--db", "");
  if (o.db.empty())
    throw std::invalid_argument("--db FILE is required (the file is deleted and recreated)");
  o.machines = a.number("--machines", o.machines, 1);
  o.samples = a.number("--samples", o.samples, 1);
  o.report_every = a.number("--report-every", o.report_every, 1);
  o.json = a.has("--json");
}

const std::map<std::string, bool> common_known = {
    {"--db", true}, {"--machines", true}, {"--samples", true}, {"--report-every", true},
    {"--metrics", true}, {"--json", false}};

int run(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "ingest-raw") {
    auto known = common_known;
    known.insert({{"--batch-polls", true}, {"--statuses", false}});
    args a(argc, argv, known);
    raw_options o;
    read_common(a, o);
    o.metrics = a.number("--metrics", o.metrics, 1);
    o.batch_polls = a.number("--batch-polls", o.batch_polls, 1);
    o.statuses = a.has("--statuses");
    return run_raw(o);
  }
  if (cmd == "ingest-pipeline") {
    auto known = common_known;
    known.insert({{"--source", true},   {"--interval-ms", true}, {"--max-batch", true},
                  {"--flush-ms", true}, {"--max-queue", true},   {"--threads", true},
                  {"--scheduler", true}});
    args a(argc, argv, known);
    pipeline_options o;
    read_common(a, o);
    o.source = a.text("--source", o.source);
    o.metrics = a.number("--metrics", o.metrics, 1);
    o.interval_ms = a.number("--interval-ms", o.interval_ms, 1);
    o.max_batch = a.number("--max-batch", o.max_batch, 1);
    o.flush_ms = a.number("--flush-ms", o.flush_ms, 1);
    o.max_queue = a.number("--max-queue", o.max_queue, 1);
    o.threads = a.number("--threads", o.threads, 0);
    o.scheduler = a.text("--scheduler", o.scheduler);
    if (o.scheduler != "sharing" && o.scheduler != "stealing") {
      std::fprintf(stderr, "edgemes-bench: --scheduler must be sharing or stealing\n");
      return 2;
    }
    return run_pipeline(o);
  }
  if (cmd == "chunk-size") {
    args a(argc, argv,
           {{"--source", true}, {"--metrics", true}, {"--machines", true}, {"--interval-ms", true},
            {"--jitter-ms", true}, {"--minutes", true}, {"--window-s", true}, {"--batch-ms", true}});
    chunk_size_options o;
    o.source = a.text("--source", o.source);
    o.metrics = a.number("--metrics", o.metrics, 1);
    o.machines = a.number("--machines", o.machines, 1);
    o.interval_ms = a.number("--interval-ms", o.interval_ms, 1);
    o.jitter_ms = a.number("--jitter-ms", o.jitter_ms, 0);
    o.minutes = a.number("--minutes", o.minutes, 1);
    o.window_s = a.number("--window-s", o.window_s, 1);
    o.batch_ms = a.number("--batch-ms", o.batch_ms, 1);
    return run_chunk_size(o);
  }
  if (cmd == "oee-seed") {
    args a(argc, argv,
           {{"--db", true}, {"--config-out", true}, {"--machines", true}, {"--lines", true},
            {"--hours", true}, {"--interval-ms", true}, {"--port", true}});
    oee_seed_options o;
    o.db = a.text("--db", "");
    o.config_out = a.text("--config-out", "");
    if (o.db.empty() || o.config_out.empty())
      throw std::invalid_argument("--db FILE and --config-out FILE are required");
    o.machines = a.number("--machines", o.machines, 1);
    o.lines = a.number("--lines", o.lines, 1);
    o.hours = a.number("--hours", o.hours, 1);
    o.interval_ms = a.number("--interval-ms", o.interval_ms, 1);
    o.port = a.number("--port", o.port, 1);
    return run_oee_seed(o);
  }
  std::fputs(usage, cmd == "--help" || cmd == "-h" ? stdout : stderr);
  return cmd == "--help" || cmd == "-h" ? 0 : 2;
}

} // namespace

int main(int argc, char** argv) {
  edgemes::log::set_min_level(edgemes::log::level::warn);
  try {
    return run(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "edgemes-bench: %s\n%s", e.what(), usage);
    return 2;
  }
}
