// config: the daemon's configuration file, parsed and validated.
//
// A config is JSON with `//` and `/* */` comments allowed. Every key is known:
// an unknown key is an error, never silently ignored. Every value has a default
// except `lines`. Validation collects *every* problem it finds, each naming the
// JSON path it concerns (e.g. `/lines/0/machines/2/source/url`), so a user fixes
// a broken file in one pass. See docs/CONFIG.md for every key.
//
// Defaults: each is declared once. The user-settable values of the modules
// above config (actors, api) default to the values here, and their settings
// structs take them from here; storage's pragmas and layout are declared in
// storage/database.hpp and config takes them from there. daemon/settings maps
// a parsed config to each module's settings, one function per module. A test
// checks docs/CONFIG.md's tables against to_json(config{}).
//
// Thread-safety: plain values; parse functions are reentrant.
#pragma once

#include "storage/database.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace edgemes::config {

// The SQLite file. The pragmas' and the layout's defaults are storage's own
// (storage/database.hpp), so they are declared once.
struct database_config {
  std::string path = "data/factory.db";
  std::string synchronous = storage::options{}.synchronous;        // OFF | NORMAL | FULL | EXTRA
  int64_t cache_size_kib = storage::options{}.cache_size_kib;      // PRAGMA cache_size=-N (the writer)
  int64_t read_cache_size_kib = 8000;  // the same for each read-only query connection
  int64_t memory_limit_kib = 32768;    // soft cap on all connections' caches together; 0 = none
  int64_t busy_timeout_ms = storage::options{}.busy_timeout_ms;
  bool foreign_keys = storage::options{}.foreign_keys;
  int64_t wal_autocheckpoint_pages = storage::options{}.wal_autocheckpoint_pages;
  int64_t journal_size_limit_bytes = storage::options{}.journal_size_limit_bytes;
  int64_t wal_max_bytes = 64LL * 1024 * 1024;  // -wal past this: RESTART checkpoint by the writer
  int64_t checkpoint_interval_ms = 60000;      // routine PASSIVE checkpoint by the writer
  int64_t retention_days = 0;                  // 0 = keep telemetry forever
  int64_t chunk_window_ms = storage::layout_options{}.window_ms;  // fixed when the file is created
  int64_t compaction_grace_ms = storage::layout_options{}.grace_ms;
  int64_t status_interval_ms = storage::layout_options{}.status_every_ms;
  int64_t head_memory_limit_kib = storage::layout_options{}.head_limit_bytes / 1024;  // 0 = none
};

struct writer_config {
  int64_t max_batch = 5000;           // samples per transaction, at most
  int64_t flush_interval_ms = 500;    // a non-empty batch is committed at least this often
  int64_t max_queue = 200000;         // samples held (queued + batched) before new ones are dropped
};

// What a token may do through the API (docs/API.md, "Roles"), ordered: each
// role may do everything the roles before it may.
enum class api_role { read = 0, operate = 1, admin = 2 };
// "read", "operate", "admin".
const char* role_name(api_role r);
// Sets `out` to the role named `name` (exact, lower case); false when none is.
bool parse_role(const std::string& name, api_role& out);

// One entry of `api.tokens`: a role and the file holding its token.
struct api_token_config {
  api_role role = api_role::read;
  std::string file;                   // the token is this file's first line (without its end)
  std::string name;                   // for logs; "" = the file's path
  std::string token;                  // the secret, read from `file` by parse(); never written out
};

struct api_config {
  std::string bind = "127.0.0.1";
  int64_t port = 8080;
  int64_t query_actors = 0;           // 0 = number of cores
  int64_t request_timeout_ms = 5000;  // HTTP -> query actor request timeout (503 past it)
  int64_t max_pending = 256;          // queued API queries before 503 overload
  std::string token;                  // "" = none; else an inline token with role admin
  std::vector<api_token_config> tokens;  // none (and no token) = no auth: reads open, writes refused
};

struct source_config {
  std::string adapter;                // "http_json" | "modbus_tcp" | "sim" | "mqtt"
  std::string url;                    // http_json: http://host[:port]/path
  int64_t timeout_ms = 2000;          // http_json, modbus_tcp: whole poll deadline
  int64_t max_reply_bytes = 1 << 20;  // http_json: larger replies fail the poll
  uint64_t seed = 0;                  // sim: 0 = derived from the machine id
  std::string host;                   // modbus_tcp: the device's name or address (required)
  int64_t port = 502;                 // modbus_tcp
  int64_t unit_id = 1;                // modbus_tcp: MBAP unit identifier, 0..255
  int64_t max_registers_per_read = 125;  // modbus_tcp: per request, 1..125 (bits: 16x, at most 2000)
  int64_t max_gap = 8;                // modbus_tcp: unused registers read to join two values in one request
  // mqtt (a pushed source): the machine publishes JSON payloads to `topic`
  // on the broker with id `broker` (mqtt.brokers[]).
  std::string broker;                 // mqtt: a broker id
  std::string topic;                  // mqtt: the exact topic (no wildcards)
  int64_t stale_after_ms = 10000;     // mqtt: offline after this long without a message
  std::string timestamp;              // mqtt: JSON pointer to the payload's time; "" = arrival
  int64_t max_payload_bytes = 65536;  // mqtt: larger payloads are a counted failure
};

// One value of a modbus_tcp machine's register map (docs/CONFIG.md). The
// names are the file's, judged by adapters/modbus_map when parsed, so after a
// successful parse every field is valid and no two registers overlap.
struct register_config {
  std::string table = "holding";      // coil | discrete | input | holding
  int64_t address = 0;                // 0..65535, the first register (PDU address)
  std::string type = "uint16";        // int16 uint16 int32 uint32 int64 float32 float64 bool
  std::string word_order = "big";     // 32/64-bit types: big = most significant register first
  std::string byte_order = "big";     // big = high byte first inside each register
  double scale = 1;                   // value = raw * scale + offset
  double offset = 0;
};

// The registers of a modbus_tcp machine. Its metric names stay in
// machine_config::metrics (with empty pointers), so everything that lists a
// machine's metrics reads them in one place; `metrics` here runs parallel.
struct register_map_config {
  std::vector<register_config> metrics;     // one per machine_config::metrics entry, same order
  bool has_state = false;
  register_config state;                    // an integer type, when has_state
  std::map<int64_t, std::string> state_map;  // code -> state text
};

// What the floor dashboard shows of one machine (docs/CONFIG.md, `dashboard`).
// parse() fills every default, so after a successful parse these lists are final:
// every name is a metric of the machine.
struct dashboard_config {
  std::vector<std::string> key_metrics;  // on the machine's tile, in this order; at most 8
  std::string sparkline;                 // metric drawn as the tile's sparkline; "" = none
  std::vector<std::string> counters;     // monotonic counters summed over a shift
};

// A shift starts at a local time of day and runs until the next shift starts.
struct shift_config {
  std::string name;
  int start_minute = 0;  // minutes after local midnight, 0..1439
};

// SEMI E10 equipment states: what a machine's own state texts mean
// (docs/CONFIG.md, `e10`). Keys are state texts as the machine reports them,
// values one of e10_classes(). Looked up machine map, then its type's, then
// the "*" map, then edgemes's defaults (e10_default_map()).
using e10_map = std::map<std::string, std::string>;

struct e10_config {
  std::map<std::string, e10_map> types;  // machine type (or "*") -> its map
};

// OEE of one machine (docs/CONFIG.md, `oee`; docs/MES.md has the formulas).
// Each name is one of the machine's metrics, a counter that only goes up
// (a drop is read as a reset). Empty = not configured: availability needs
// none of this, performance needs the ideal cycle and `total`, quality needs
// `total` and `good` or `reject` (at most one of the two).
struct oee_config {
  double ideal_cycle_s = 0;           // seconds per unit at the ideal rate; 0 = unknown
  std::string total;                  // units started or produced, good and bad
  std::string good;                   // good units
  std::string reject;                 // rejected units (good = total - reject)
};

struct machine_config {
  std::string id;                     // unique across the whole config
  std::string name;                   // default: id
  std::string type;                   // placer | printer | reflow | aoi | any other text
  int64_t poll_interval_ms = 1000;
  source_config source;
  // metric name -> RFC 6901 JSON pointer into the machine's reply, in file order
  // (for modbus_tcp the pointers are empty and `registers` says where each is).
  // For the sim adapter an absent `metrics` leaves this empty and the daemon
  // fills in the type's standard metrics (adapters::sim_standard_metrics).
  std::vector<std::pair<std::string, std::string>> metrics;
  std::string state;                  // JSON pointer to a string state; empty = none
  // For the sim adapter an absent `state` is left empty; the daemon uses "/state".
  register_map_config registers;      // modbus_tcp only: metrics and state are registers
  dashboard_config dashboard;
  e10_map e10;                        // this machine's own overrides (`e10` in its entry)
  oee_config oee;
  // Counter of components placed (a placer's); "" = none. Default: the
  // machine's metric `placements_total` when it has one.
  std::string placements;
};

// The counter of a line's finished boards: what a work order on the line
// counts, and its end-of-line basis for the line's OEE.
struct line_output_config {
  std::string machine;                // a machine of this line; "" = the line has none
  std::string metric;                 // one of its metrics
};

struct line_config {
  std::string id;
  std::string name;                   // default: id
  std::vector<machine_config> machines;
  // Default: the last machine of the line (file order) with `oee.total`, that counter.
  line_output_config output;
};

// One MQTT broker, shared by every machine that names it (one connection).
struct mqtt_broker_config {
  std::string id;                     // unique among the brokers; machines name it
  std::string host;
  int64_t port = 1883;
  std::string client_id;              // "" = derived from site and id (mqtt_client_id)
  std::string username;               // "" = none
  std::string password_file;          // the password is the file's first line; with username
  std::string ca_file;                // "" = plain TCP; set = TLS, the broker checked against it
  std::string cert_file;              // client certificate for TLS (with key_file)
  std::string key_file;
  int64_t keepalive_s = 30;
  int64_t max_pending_bytes = 8 << 20;  // payloads received but not yet handled; more are dropped
};

struct mqtt_config {
  std::vector<mqtt_broker_config> brokers;
};

struct pollers_config {
  int64_t http_workers = 16;          // threads doing blocking HTTP polls
  int64_t max_backoff_ms = 30000;     // cap of the retry backoff after failures
  int64_t offline_after_failures = 3;
};

struct config {
  std::string site = "edgemes";
  database_config database;
  writer_config writer;
  api_config api;
  pollers_config pollers;
  mqtt_config mqtt;
  // Shifts of the site, in file order; the default is three 8-hour shifts.
  std::vector<shift_config> shifts{{"A", 6 * 60}, {"B", 14 * 60}, {"C", 22 * 60}};
  // States that count as producing, for availability.
  std::vector<std::string> run_states{"RUN"};
  e10_config e10;
  std::vector<line_config> lines;
};

// The six SEMI E10 classes: productive, standby, engineering, scheduled
// downtime, unscheduled downtime, non-scheduled.
const std::vector<std::string>& e10_classes();
// Time a machine could not be reached (its OFFLINE state): never folded into
// an E10 class, always reported as itself.
inline constexpr const char* e10_offline = "OFFLINE";
// A state text no map covers: reported as this, with the text.
inline constexpr const char* e10_unmapped = "unmapped";
// The built-in map from common state texts (RUN, IDLE, SETUP, DOWN, ALARM…),
// consulted last; docs/CONFIG.md lists it.
const e10_map& e10_default_map();
// The E10 class of `state` on machine `m`: one of e10_classes(), e10_offline
// for "OFFLINE", or e10_unmapped.
std::string e10_class(const config& c, const machine_config& m, const std::string& state);

// One problem found in a config: the JSON path it concerns and what is wrong.
struct problem {
  std::string path;     // JSON pointer, "" for the document itself
  std::string message;  // e.g. "unknown key 'prot' (expected one of: bind, port, ...)"
};

struct parse_result {
  config value;                  // meaningful only when problems is empty
  std::vector<problem> problems; // empty = valid
  // Allowed but unwise (a token file that group or others may read): the
  // daemon logs them, check-config prints them; they never fail a parse.
  std::vector<problem> warnings;
  bool ok() const { return problems.empty(); }
};

// Parses and validates config text. `origin` names the source in messages
// (a file name or "<embedded demo>"). Bad JSON yields one problem with
// line and column ("line 3, column 14: ...").
parse_result parse(const std::string& text, const std::string& origin = "<config>");

// Reads the file and parses it; an unreadable file is one problem naming it.
parse_result load_file(const std::string& path);

// The embedded demo config (config/demo.json, compiled into the binary).
const std::string& demo_text();

// The config as JSON, every key with its value (defaults filled in), in the
// file's shape. Shifts are written as {"name", "start": "HH:MM"}.
nlohmann::ordered_json to_json(const config& c);

// "path: message" lines, one per problem.
std::string format_problems(const std::vector<problem>& problems);

// The metric names a sim machine of `type` reports (empty for other types):
// the names of its entry in adapters::sim_catalogue().
std::vector<std::string> sim_metric_names(const std::string& type);

// The MQTT client id of broker `b`: its client_id, else "edgemes-<site>-<id>"
// with every character of the site outside A-Z a-z 0-9 _ . - replaced by '_'
// (fixed across restarts, so the broker keeps the session).
std::string mqtt_client_id(const config& c, const mqtt_broker_config& b);

// True when `pointer` is a syntactically valid RFC 6901 JSON pointer.
bool valid_json_pointer(const std::string& pointer);

} // namespace edgemes::config
