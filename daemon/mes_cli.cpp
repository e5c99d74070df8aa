// daemon/mes_cli: see the header. Each command parses its arguments, checks
// what it can without the daemon, then makes one HTTP request.
#include "daemon/mes_cli.hpp"

#include "api/server.hpp"
#include "config/config.hpp"
#include "mes/bom_csv.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace edgemes::daemon {

namespace {

const char* usage_import = R"(usage: edgemes import-bom --config FILE --product P [options] BOM.csv

Imports BOM.csv as the next BOM revision of product P (created on its first
import) through the running daemon: the daemon is the only writer of its
database. The file is checked here first; every problem is listed with its
line and column, and nothing is sent.

  --config FILE        the daemon's config: where its API listens, its token
  --product P          the product id (1-64 of A-Z a-z 0-9 _ . -)
  --name N             the product's name (default: kept, or P for a new product)
  --separator S        ';', ',', a single character, or 'tab' (default: detected)
  --header COL=NAMES   the header names of column COL (designators, part_number,
                       quantity, description, side), '|' between names; repeatable
  --token-file F       the API token is F's first line (else $EDGEMES_TOKEN,
                       else the config's api.token)

Exit code 0 when imported, 1 when refused (problems, no daemon), 2 on a bad
command line.
)";

const char* usage_work_order = R"(usage: edgemes work-order COMMAND --config FILE [--token-file F] ...

  create --id W --product P --quantity N --line L [--revision R]
                       a new work order (default: the product's latest BOM revision)
  start W | pause W | complete W
                       move order W along its life cycle (docs/MES.md)
  show W               the order as JSON: runs, boards, progress, rate, ETA, components
  list [--line L] [--status S] [--limit N]
                       orders as JSON, newest first

Sent to the running daemon (the only writer of its database); the token is
--token-file F's first line, else $EDGEMES_TOKEN, else the config's api.token.
Exit code 0 when done, 1 when refused (or no daemon), 2 on a bad command line.
)";

bool is_help(const std::string& a) { return a == "--help" || a == "-h" || a == "help"; }

// The options of a command line: "--name value" pairs, repeatable ones kept
// in order, and the positional arguments.
struct command_line {
  std::multimap<std::string, std::string> options;
  std::vector<std::string> positional;
  std::optional<std::string> get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end())
      return std::nullopt;
    return it->second;
  }
};

// Parses `args` against the options allowed; prints the problem and returns
// nullopt on anything else.
std::optional<command_line> parse_args(const char* command, const std::vector<std::string>& args,
                                       const std::vector<std::string>& allowed,
                                       const char* usage) {
  command_line out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), a) == allowed.end()) {
      std::cerr << command << ": unknown option '" << a << "'\n" << usage;
      return std::nullopt;
    }
    if (i + 1 >= args.size()) {
      std::cerr << command << ": " << a << " needs a value\n";
      return std::nullopt;
    }
    if (a != "--header" && out.options.count(a)) {
      std::cerr << command << ": " << a << " given twice\n";
      return std::nullopt;
    }
    out.options.emplace(a, args[++i]);
  }
  return out;
}

// Where the daemon of a config listens, and the token to show it.
struct daemon_address {
  std::string host;
  int port = 0;
  std::string token;
  std::string url() const { return "http://" + host + ":" + std::to_string(port); }
};

std::optional<daemon_address> address(const char* command, const command_line& cl) {
  auto config_path = cl.get("--config");
  if (!config_path) {
    std::cerr << command << ": --config FILE is required (the daemon's config says where it "
                            "listens)\n";
    return std::nullopt;
  }
  auto parsed = config::load_file(*config_path);
  if (!parsed.ok()) {
    std::cerr << *config_path << ": config is invalid:\n"
              << config::format_problems(parsed.problems);
    return std::nullopt;
  }
  daemon_address a;
  const auto& api = parsed.value.api;
  a.host = api.bind == "0.0.0.0" || api.bind == "::" || api.bind == "[::]" ? "127.0.0.1"
                                                                           : api.bind;
  a.port = static_cast<int>(api.port);
  a.token = api.token;
  if (const char* env = std::getenv("EDGEMES_TOKEN"); env && *env)
    a.token = env;
  if (auto file = cl.get("--token-file")) {
    std::ifstream in(*file);
    if (!in || !std::getline(in, a.token)) {
      std::cerr << command << ": cannot read the token from " << *file << "\n";
      return std::nullopt;
    }
    while (!a.token.empty() && (a.token.back() == '\r' || a.token.back() == ' '))
      a.token.pop_back();
  }
  return a;
}

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params)
    out += (out.empty() ? "?" : "&") + k + "=" + percent_encode(v);
  return out;
}

// One request to the daemon: its status and body as JSON, or nullopt after
// saying that no daemon answers.
struct answer {
  int status = 0;
  nlohmann::json doc;
};

std::optional<answer> ask(const char* command, const daemon_address& a, const std::string& method,
                           const std::string& target, const std::string& body = "",
                           const std::string& content_type = "application/json") {
  httplib::Client cli(a.host, a.port);
  cli.set_connection_timeout(3, 0);
  cli.set_read_timeout(60, 0);
  cli.set_write_timeout(60, 0);
  httplib::Headers headers;
  if (!a.token.empty())
    headers.emplace("Authorization", "Bearer " + a.token);
  auto res = method == "GET" ? cli.Get(target.c_str(), headers)
                             : cli.Post(target.c_str(), headers, body, content_type.c_str());
  if (!res) {
    std::cerr << command << ": no edgemes daemon answers at " << a.url() << " ("
              << httplib::to_string(res.error())
              << "); start it with `edgemes run --config FILE` — it is the only writer of the "
                 "database, so nothing was written\n";
    return std::nullopt;
  }
  return answer{res->status, nlohmann::json::parse(res->body, nullptr, false)};
}

// Prints the daemon's error (and a BOM's problems) to stderr; returns 1.
int refused(const char* command, const answer& r) {
  std::string message = "HTTP " + std::to_string(r.status);
  if (r.doc.is_object() && r.doc.contains("error") && r.doc["error"].is_object()) {
    const auto& e = r.doc["error"];
    message += " " + e.value("code", std::string()) + ": " + e.value("message", std::string());
    if (e.contains("problems"))
      for (const auto& p : e["problems"])
        message += "\n  " + p.value("text", std::string());
  }
  std::cerr << command << ": the daemon refused: " << message << "\n";
  return 1;
}

} // namespace

int import_bom_command(const std::vector<std::string>& args) {
  const char* cmd = "edgemes import-bom";
  if (!args.empty() && is_help(args[0])) {
    std::cout << usage_import;
    return 0;
  }
  auto cl = parse_args(cmd, args,
                       {"--config", "--product", "--name", "--separator", "--header",
                        "--token-file"},
                       usage_import);
  if (!cl)
    return 2;
  auto product = cl->get("--product");
  if (!product || cl->positional.size() != 1) {
    std::cerr << cmd << ": --product P and one BOM file are required\n" << usage_import;
    return 2;
  }
  const std::string path = cl->positional[0];
  std::vector<std::pair<std::string, std::string>> params;
  mes::bom_csv::options opts;
  opts.max_bytes = api::max_bom_bytes;
  if (auto sep = cl->get("--separator")) {
    if (*sep == "tab") {
      opts.separator = '\t';
    } else if (sep->size() == 1) {
      opts.separator = (*sep)[0];
    } else {
      std::cerr << cmd << ": --separator must be one character or 'tab'\n";
      return 2;
    }
    params.emplace_back("separator", *sep);
  }
  std::map<std::string, std::vector<std::string>*> columns{
      {"designators", &opts.columns.designators},
      {"part_number", &opts.columns.part_number},
      {"quantity", &opts.columns.quantity},
      {"description", &opts.columns.description},
      {"side", &opts.columns.side}};
  for (auto [it, end] = cl->options.equal_range("--header"); it != end; ++it) {
    auto eq = it->second.find('=');
    auto col = columns.find(it->second.substr(0, eq));
    if (eq == std::string::npos || col == columns.end() || eq + 1 == it->second.size()) {
      std::cerr << cmd << ": --header takes COLUMN=NAMES with COLUMN one of designators, "
                          "part_number, quantity, description, side\n";
      return 2;
    }
    std::vector<std::string> names;
    std::stringstream list(it->second.substr(eq + 1));
    for (std::string n; std::getline(list, n, '|');)
      names.push_back(n);
    *col->second = names;
    params.emplace_back(col->first + "_header", it->second.substr(eq + 1));
  }
  auto where = address(cmd, *cl);
  if (!where)
    return 2;

  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    std::cerr << cmd << ": cannot read " << path << ": " << ec.message() << "\n";
    return 1;
  }
  if (size > api::max_bom_bytes) {
    std::cerr << path << ": the file is " << size << " bytes, more than the daemon's limit of "
              << api::max_bom_bytes << "; nothing imported\n";
    return 1;
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = mes::bom_csv::parse(bytes, opts);
  if (!parsed.ok()) {
    const size_t total = parsed.problems.size() + parsed.problems_omitted;
    std::cerr << path << ": " << total << " problem" << (total == 1 ? "" : "s")
              << ", nothing imported:\n"
              << mes::bom_csv::format_problems(parsed);
    return 1;
  }
  if (auto name = cl->get("--name"))
    params.emplace_back("name", *name);
  params.emplace_back("source", std::filesystem::path(path).filename().string());
  auto r = ask(cmd, *where, "POST",
                "/api/v1/products/" + percent_encode(*product) + "/bom" + query_string(params),
                bytes, "text/csv");
  if (!r)
    return 1;
  if (r->status != 201)
    return refused(cmd, *r);
  std::cout << "imported " << path << " as product " << *product << " BOM revision "
            << r->doc.value("revision", 0) << ": " << r->doc.value("items", 0) << " items, "
            << r->doc.value("components", 0) << " components\n";
  return 0;
}

int work_order_command(const std::vector<std::string>& args) {
  const char* cmd = "edgemes work-order";
  if (args.empty() || is_help(args[0])) {
    std::cout << usage_work_order;
    return args.empty() ? 2 : 0;
  }
  const std::string sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const bool transition = sub == "start" || sub == "pause" || sub == "complete";
  std::vector<std::string> allowed{"--config", "--token-file"};
  if (sub == "create")
    allowed.insert(allowed.end(), {"--id", "--product", "--quantity", "--line", "--revision"});
  else if (sub == "list")
    allowed.insert(allowed.end(), {"--line", "--status", "--limit"});
  else if (!transition && sub != "show") {
    std::cerr << cmd << ": unknown command '" << sub << "'\n" << usage_work_order;
    return 2;
  }
  auto cl = parse_args(cmd, rest, allowed, usage_work_order);
  if (!cl)
    return 2;
  const size_t positional = transition || sub == "show" ? 1 : 0;
  if (cl->positional.size() != positional) {
    std::cerr << cmd << " " << sub << ": "
              << (positional ? "takes the work order's id" : "takes no positional argument")
              << "\n"
              << usage_work_order;
    return 2;
  }
  nlohmann::json body;
  if (sub == "create") {
    for (const char* name : {"--id", "--product", "--quantity", "--line"})
      if (!cl->get(name)) {
        std::cerr << cmd << " create: " << name << " is required\n" << usage_work_order;
        return 2;
      }
    body = {{"id", *cl->get("--id")}, {"product", *cl->get("--product")},
            {"line", *cl->get("--line")}};
    for (const char* name : {"--quantity", "--revision"}) {
      auto v = cl->get(name);
      if (!v)
        continue;
      char* end = nullptr;
      long long n = std::strtoll(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0') {
        std::cerr << cmd << " create: " << name << " must be a whole number, got '" << *v
                  << "'\n";
        return 2;
      }
      body[std::string(name + 2)] = n;
    }
  }
  auto where = address(cmd, *cl);
  if (!where)
    return 2;
  std::optional<answer> r;
  if (sub == "create") {
    r = ask(cmd, *where, "POST", "/api/v1/work-orders", body.dump());
  } else if (transition) {
    r = ask(cmd, *where, "POST",
             "/api/v1/work-orders/" + percent_encode(cl->positional[0]) + "/" + sub, "{}");
  } else if (sub == "show") {
    r = ask(cmd, *where, "GET", "/api/v1/work-orders/" + percent_encode(cl->positional[0]));
  } else {
    std::vector<std::pair<std::string, std::string>> params;
    for (const char* name : {"--line", "--status", "--limit"})
      if (auto v = cl->get(name))
        params.emplace_back(name + 2, *v);
    r = ask(cmd, *where, "GET", "/api/v1/work-orders" + query_string(params));
  }
  if (!r)
    return 1;
  if (r->status / 100 != 2)
    return refused(cmd, *r);
  if (sub == "create")
    std::cout << "work order " << r->doc.value("id", "") << " created: product "
              << r->doc.value("product", "") << " BOM revision " << r->doc.value("revision", 0)
              << ", " << r->doc.value("quantity", 0) << " boards on line "
              << r->doc.value("line", "") << "\n";
  else if (transition)
    std::cout << "work order " << r->doc.value("id", "") << ": "
              << r->doc.value("previous_status", "") << " -> " << r->doc.value("status", "")
              << "\n";
  else
    std::cout << r->doc.dump(2) << "\n";
  return 0;
}

} // namespace edgemes::daemon
