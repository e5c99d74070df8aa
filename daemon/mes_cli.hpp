// daemon/mes_cli: the MES commands of the command line — `import-bom` and
// `work-order create|start|pause|complete|show|list` — as clients of a
// running daemon's HTTP API (docs/MES.md, docs/API.md).
//
// The daemon is the only writer of its database, so these commands never
// open the file: they send their request to the daemon at the config's
// api.bind and api.port (a wildcard bind is reached on 127.0.0.1), with the
// token from --token-file F (its first line), else the environment variable
// EDGEMES_TOKEN, else the config's api.token. When no daemon answers they say
// so and exit 1, having written nothing. `import-bom` parses the file locally
// first (mes/bom_csv, with the limits the daemon applies), so a broken file's
// problems are listed, each with line and column, with or without a daemon.
//
// Exit codes: 0 done, 1 refused (problems in the file, the daemon's error,
// no daemon), 2 a bad command line.
#pragma once

#include <string>
#include <vector>

namespace edgemes::daemon {

// `edgemes import-bom ARGS...` (the arguments after the command's name).
int import_bom_command(const std::vector<std::string>& args);

// `edgemes work-order ARGS...`.
int work_order_command(const std::vector<std::string>& args);

} // namespace edgemes::daemon
