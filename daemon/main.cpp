// edgemes: the command line. `run` serves, `check-config` validates,
// `backup` copies the database consistently while the daemon runs;
// `import-bom` and `work-order` ask a running daemon to write (daemon/mes_cli).
#include "adapters/sim_model.hpp"
#include "config/config.hpp"
#include "daemon/mes_cli.hpp"
#include "daemon/run.hpp"
#include "daemon/settings.hpp"
#include "daemon/sources.hpp"
#include "log/log.hpp"
#include "storage/backup.hpp"

#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

const char* usage_main = R"(edgemes — the data layer of an SMT line's MES, in one SQLite file.

usage:
  edgemes run [--config FILE] [options]   poll the machines, store, serve the API
  edgemes check-config FILE               validate a config; exit 1 on any problem
  edgemes backup [--config FILE] OUT.db   consistent copy of the database, safe while running
  edgemes import-bom --config FILE --product P [--name N] BOM.csv
                                          import a BOM revision through the running daemon
  edgemes work-order create|start|pause|complete|show|list --config FILE ...
                                          work orders, through the running daemon
  edgemes --version
  edgemes <command> --help

Without --config, `run` uses the embedded demo: one SMT line of simulated
machines, database data/demo.db, API on http://127.0.0.1:8080/api/v1.
)";

const char* usage_run = R"(usage: edgemes run [--config FILE] [--port N] [--bind ADDR] [--db PATH] [--log-level L]

  --config FILE   the config (JSON, // comments allowed; docs/CONFIG.md).
                  Default: the embedded demo of simulated machines.
  --port N        override api.port (0 = any free port, printed in the log)
  --bind ADDR     override api.bind
  --db PATH       override database.path
  --log-level L   debug | info | warn | error (default info)

Stops cleanly on SIGINT or SIGTERM: every sample already polled is committed,
the WAL is checkpointed, exit code 0.
)";

const char* usage_check = R"(usage: edgemes check-config FILE

Validates FILE and prints every problem found, each with its JSON path.
Exit code 0 when valid, 1 when not.
)";

const char* usage_backup = R"(usage: edgemes backup [--config FILE] [--db PATH] OUT.db

Copies the database of FILE (or PATH; default: the embedded demo's) to OUT.db
while the daemon may be running: through SQLite's backup API from a read-only
connection, so the copy holds every committed sample, including those still in
the -wal file, and the live file is never written. OUT.db must not exist.
Exit code 0 on success, 1 on failure, 2 on a bad command line.
)";

bool is_help(const std::string& a) {
  return a == "--help" || a == "-h" || a == "help";
}

int check_config(const std::vector<std::string>& args) {
  if (args.empty() || is_help(args[0])) {
    std::cout << usage_check;
    return args.empty() ? 2 : 0;
  }
  if (args.size() > 1) {
    std::cerr << "check-config takes one file\n" << usage_check;
    return 2;
  }
  auto result = edgemes::config::load_file(args[0]);
  if (result.ok()) {
    // The dry run of `run`'s start: every source, with its pointers, is built by
    // the code that will poll with it.
    edgemes::daemon::resolve_defaults(result.value);
    std::vector<edgemes::daemon::machine_plan> plans;
    result.problems = edgemes::daemon::build_sources(result.value, plans);
  }
  if (!result.ok()) {
    std::cerr << args[0] << ": " << result.problems.size() << " problem"
              << (result.problems.size() == 1 ? "" : "s") << ":\n"
              << edgemes::config::format_problems(result.problems);
    return 1;
  }
  for (const auto& w : result.warnings)
    std::cout << "warning: " << w.path << ": " << w.message << "\n";
  size_t machines = 0;
  for (const auto& l : result.value.lines)
    machines += l.machines.size();
  std::cout << args[0] << ": ok (" << result.value.lines.size() << " lines, " << machines
            << " machines, database " << result.value.database.path << ")\n";
  // SEMI E10: the simulated machines' state texts no e10 map covers (an http
  // machine's texts are known only once it reports them: /states names them).
  std::map<std::string, std::set<std::string>> unmapped;  // state -> machines
  size_t simulated = 0;
  for (const auto& l : result.value.lines)
    for (const auto& m : l.machines) {
      if (m.source.adapter != "sim" || (!m.state.empty() && m.state != "/state"))
        continue;
      ++simulated;
      for (const auto& s : edgemes::adapters::sim_states())
        if (edgemes::config::e10_class(result.value, m, s) == edgemes::config::e10_unmapped)
          unmapped[s].insert(m.id);
    }
  if (simulated > 0 && unmapped.empty())
    std::cout << "e10: every state of the simulated machines is mapped\n";
  for (const auto& [state, ids] : unmapped) {
    std::cout << "e10: state '" << state << "' is unmapped on";
    for (const auto& id : ids)
      std::cout << " " << id;
    std::cout << "\n";
  }
  return 0;
}

int backup(const std::vector<std::string>& args) {
  std::optional<std::string> config_path, db_path, out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (is_help(a)) {
      std::cout << usage_backup;
      return 0;
    }
    if ((a == "--config" || a == "--db") && i + 1 < args.size()) {
      (a == "--config" ? config_path : db_path) = args[++i];
    } else if (a.rfind("--", 0) != 0 && !out) {
      out = a;
    } else {
      std::cerr << "edgemes backup: unexpected argument '" << a << "'\n" << usage_backup;
      return 2;
    }
  }
  if (!out) {
    std::cerr << "edgemes backup: the output file is required\n" << usage_backup;
    return 2;
  }
  std::string origin = config_path ? *config_path : "<embedded demo>";
  auto parsed = config_path ? edgemes::config::load_file(*config_path)
                            : edgemes::config::parse(edgemes::config::demo_text(), origin);
  if (!parsed.ok()) {
    std::cerr << origin << ": config is invalid:\n"
              << edgemes::config::format_problems(parsed.problems);
    return 1;
  }
  const auto& d = parsed.value.database;
  std::string source = db_path ? *db_path : d.path;
  // The same pragmas as the daemon's (foreign_keys, busy_timeout, cache…), so
  // a backup taken next to a running daemon waits for its writer as it does.
  auto opts = edgemes::daemon::reader_options(d);
  try {
    auto r = edgemes::storage::backup(source, *out, opts);
    std::cout << "backup of " << source << " written to " << *out << ": " << r.bytes
              << " bytes, " << r.pages << " pages in " << r.ms << " ms\n";
    return 0;
  } catch (const edgemes::storage::db_error& e) {
    std::cerr << "edgemes backup: " << e.what() << "\n";
    return 1;
  }
}

int run(const std::vector<std::string>& args) {
  std::optional<std::string> config_path;
  edgemes::daemon::run_overrides overrides;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (is_help(a)) {
      std::cout << usage_run;
      return 0;
    }
    auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        std::cerr << "edgemes run: " << name << " needs a value\n";
        return std::nullopt;
      }
      return args[++i];
    };
    std::optional<std::string> v;
    if (a == "--config") {
      if (!(v = value("--config")))
        return 2;
      config_path = *v;
    } else if (a == "--port") {
      if (!(v = value("--port")))
        return 2;
      char* end = nullptr;
      long port = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || port < 0 || port > 65535) {
        std::cerr << "edgemes run: --port must be 0..65535, got '" << *v << "'\n";
        return 2;
      }
      overrides.port = static_cast<int>(port);
    } else if (a == "--bind") {
      if (!(v = value("--bind")))
        return 2;
      overrides.bind = *v;
    } else if (a == "--db") {
      if (!(v = value("--db")))
        return 2;
      overrides.db_path = *v;
    } else if (a == "--log-level") {
      if (!(v = value("--log-level")))
        return 2;
      using edgemes::log::level;
      if (*v == "debug") edgemes::log::set_min_level(level::debug);
      else if (*v == "info") edgemes::log::set_min_level(level::info);
      else if (*v == "warn") edgemes::log::set_min_level(level::warn);
      else if (*v == "error") edgemes::log::set_min_level(level::error);
      else {
        std::cerr << "edgemes run: --log-level must be debug, info, warn or error\n";
        return 2;
      }
    } else {
      std::cerr << "edgemes run: unknown option '" << a << "'\n" << usage_run;
      return 2;
    }
  }
  std::string origin = config_path ? *config_path : "<embedded demo>";
  auto parsed = config_path ? edgemes::config::load_file(*config_path)
                            : edgemes::config::parse(edgemes::config::demo_text(), origin);
  if (!parsed.ok()) {
    std::cerr << origin << ": config is invalid, not starting:\n"
              << edgemes::config::format_problems(parsed.problems);
    return 1;
  }
  for (const auto& w : parsed.warnings)
    edgemes::log::warn("config", w.path + ": " + w.message);
  return edgemes::daemon::run(std::move(parsed.value), origin, overrides);
}

} // namespace

int main(int argc, char** argv) {
  // Before any thread starts: SIGINT/SIGTERM are taken with sigwait by run(),
  // and a peer closing a socket must not kill the daemon.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cout << usage_main;
    return 2;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (is_help(cmd)) {
    std::cout << usage_main;
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::cout << "edgemes " << EDGEMES_VERSION << "\n";
    return 0;
  }
  if (cmd == "run")
    return run(args);
  if (cmd == "check-config")
    return check_config(args);
  if (cmd == "backup")
    return backup(args);
  if (cmd == "import-bom")
    return edgemes::daemon::import_bom_command(args);
  if (cmd == "work-order")
    return edgemes::daemon::work_order_command(args);
  std::cerr << "edgemes: unknown command '" << cmd << "'\n" << usage_main;
  return 2;
}
