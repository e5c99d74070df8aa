// Work orders (api/handlers.hpp; docs/API.md, "Work orders"; the life cycle in
// storage/mes.hpp and docs/MES.md).
//
// Create and the transitions are write jobs on the writer; the reads run on a
// query worker in two steps:
// - the orders, their BOM items and the counters' row ids and slots, in one
//   read snapshot (storage::read_snapshot), so the reply shows one committed
//   state of the MES tables;
// - then the counts, each a reader::count_increases (storage/counters.hpp's
//   rule from the hour summaries, equal to the reference count_increase) in
//   its own short read transaction with the head loaded before it — never
//   inside the snapshot above, whose transaction began before the head would
//   be loaded (storage/reader_scan.cpp: the head must come first).
// What is counted:
// - boards: the line's output counter (config lines[].output) summed over
//   each run [start, end) — a running run ends now — so paused time counts
//   nothing and a counter reset is no loss; runs do not overlap, so the sum
//   is exact whichever state each run's count reads;
// - rate: boards per running hour; ETA: now + the boards left at that rate
//   (running orders only);
// - components (one order): per part number boards x its quantity on the
//   order's BOM revision, the total, and the placed ones (items with
//   designators), next to what each placer of the line counted on its
//   `placements` counter over the same runs.
#include "api/handlers.hpp"

#include "api/endpoints.hpp"
#include "api/json_out.hpp"
#include "clock/clock.hpp"
#include "storage/dashboard.hpp"
#include "storage/mes.hpp"
#include "storage/mes_reads.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace edgemes::api::handlers {

namespace {

using clock::wall_ms;

const std::set<std::string> statuses{"created", "running", "paused", "completed"};

// A machine's counter as the file knows it: row id and slot; nullopt when the
// machine or the metric is not in the file.
struct counter_ref {
  std::string machine;
  std::string metric;
  int64_t machine_id = 0;
  int slot = 0;
};

std::optional<counter_ref> find_counter(storage::reader& db, const std::string& machine,
                                        const std::string& metric) {
  auto m = db.machine(machine);
  if (!m)
    return std::nullopt;
  for (const auto& x : db.metrics(m->id))
    if (x.name == metric)
      return counter_ref{machine, metric, m->id, x.slot};
  return std::nullopt;
}

// What `c` counted over the order's runs (a running run ends at now): one
// count_increases per run, each in its own read transaction (file comment).
double counted(storage::reader& db, const counter_ref& c,
               const std::vector<storage::work_order_run>& runs, int64_t now) {
  double sum = 0;
  const std::vector<int> slot{c.slot};
  for (const auto& r : runs)
    sum += db.count_increases(c.machine_id, slot, r.start_ms,
                              r.end_ms > 0 ? r.end_ms : std::max(now, r.start_ms))[0]
               .increase;
  return sum;
}

// What one order's reply needs from the MES tables and the catalogue, read
// in one snapshot before anything is counted.
struct order_facts {
  storage::work_order_info order;
  std::optional<counter_ref> output;
  bool components = false;
  std::vector<storage::bom_item_row> items;  // with components
  std::vector<counter_ref> placers;          // with components: the line's, in config order
};

order_facts read_facts(storage::reader& db, const config::config& plant,
                       storage::work_order_info o, bool components) {
  order_facts f;
  f.order = std::move(o);
  const config::line_config* line = endpoints::find_line(plant, f.order.line);
  if (line && !line->output.machine.empty())
    f.output = find_counter(db, line->output.machine, line->output.metric);
  if (!f.output || !components)
    return f;
  f.components = true;
  f.items = storage::bom_items(db, f.order.product, f.order.revision);
  for (const auto& m : line->machines) {
    if (m.placements.empty())
      continue;
    if (auto c = find_counter(db, m.id, m.placements))
      f.placers.push_back(*c);
  }
  return f;
}

int64_t running_ms(const std::vector<storage::work_order_run>& runs, int64_t now) {
  int64_t ms = 0;
  for (const auto& r : runs)
    ms += (r.end_ms > 0 ? r.end_ms : std::max(now, r.start_ms)) - r.start_ms;
  return ms;
}

// The order's members, its boards, progress, rate and ETA; with
// `components`, its BOM's components against the placers' counters.
void order_json(json_out& w, storage::reader& db, const order_facts& f, int64_t now) {
  const storage::work_order_info& o = f.order;
  w.begin_object();
  w.key("id").value(o.ident);
  w.key("product").value(o.product);
  w.key("product_name").value(o.product_name);
  w.key("revision").value(o.revision);
  w.key("line").value(o.line);
  w.key("quantity").value(o.quantity);
  w.key("status").value(o.status);
  w.key("created_ms").value(o.created_ms);
  w.key("completed_ms").ms_or_null(o.completed_ms);
  w.key("runs").begin_array();
  for (const auto& r : o.runs) {
    w.begin_object();
    w.key("start_ms").value(r.start_ms);
    w.key("end_ms").ms_or_null(r.end_ms);
    w.end_object();
  }
  w.end_array();
  const int64_t ms = running_ms(o.runs, now);
  w.key("running_ms").value(ms);
  const std::optional<counter_ref>& output = f.output;
  w.key("output");
  if (!output) {
    w.null();
    w.key("boards").null();
    w.key("progress").null();
    w.key("rate_per_hour").null();
    w.key("eta_ms").null();
  } else {
    w.begin_object();
    w.key("machine").value(output->machine);
    w.key("metric").value(output->metric);
    w.end_object();
    const double boards = counted(db, *output, o.runs, now);
    const double hours = static_cast<double>(ms) / 3'600'000.0;
    const double rate = hours > 0 ? boards / hours : 0;
    w.key("boards").value(boards);
    w.key("progress").value(boards / static_cast<double>(o.quantity));
    w.key("rate_per_hour");
    if (hours > 0)
      w.value(rate);
    else
      w.null();
    const double left = static_cast<double>(o.quantity) - boards;
    w.key("eta_ms");
    if (o.status == "running" && rate > 0 && left > 0)
      w.value(now + static_cast<int64_t>(left / rate * 3'600'000.0));
    else
      w.null();
    if (f.components) {
      // Per part number, in the order of its first item.
      std::vector<std::string> order;
      std::map<std::string, int64_t> per_board;
      int64_t total = 0, placed = 0;
      for (const auto& i : f.items) {
        if (!per_board.count(i.part_number))
          order.push_back(i.part_number);
        per_board[i.part_number] += i.quantity;
        total += i.quantity;
        placed += i.designators.empty() ? 0 : i.quantity;
      }
      w.key("components").begin_object();
      w.key("per_board").value(total);
      w.key("placed_per_board").value(placed);
      w.key("expected").value(boards * static_cast<double>(total));
      w.key("expected_placed").value(boards * static_cast<double>(placed));
      w.key("parts").begin_array();
      for (const auto& pn : order) {
        w.begin_object();
        w.key("part_number").value(pn);
        w.key("per_board").value(per_board[pn]);
        w.key("expected").value(boards * static_cast<double>(per_board[pn]));
        w.end_object();
      }
      w.end_array();
      double by_placers = 0;
      w.key("placers").begin_array();
      for (const auto& c : f.placers) {
        const double n = counted(db, c, o.runs, now);
        by_placers += n;
        w.begin_object();
        w.key("machine").value(c.machine);
        w.key("metric").value(c.metric);
        w.key("placed").value(n);
        w.end_object();
      }
      w.end_array();
      w.key("placed_by_placers").value(by_placers);
      w.end_object();
    }
  }
  w.end_object();
}

// The order id in the path; false after answering 404 for one that cannot exist.
bool order_id(const request& req, httplib::Response& res, std::string& out) {
  out = req.http.matches[1];
  if (valid_ident(out))
    return true;
  send_error(res, 404, "unknown_work_order", "no work order with that id");
  return false;
}

// A refusal of storage/mes as the API's reply.
query_reply refusal(const storage::mes_result& r) {
  using storage::mes_status;
  switch (r.status) {
    case mes_status::unknown_order: return error_reply(404, "unknown_work_order", r.message);
    case mes_status::order_exists: return error_reply(409, "work_order_exists", r.message);
    case mes_status::illegal_transition: return error_reply(409, "illegal_transition", r.message);
    case mes_status::line_busy: return error_reply(409, "line_busy", r.message);
    case mes_status::unknown_product: return error_reply(422, "unknown_product", r.message);
    case mes_status::unknown_revision: return error_reply(422, "unknown_revision", r.message);
    case mes_status::unknown_line: return error_reply(422, "unknown_line", r.message);
    case mes_status::ok: break;
  }
  return error_reply(500, "internal", "unexpected refusal: " + r.message);
}

// {"id","product","quantity","line","revision"?} -> def; the first problem as a 400 reply.
std::optional<query_reply> parse_order(const std::string& body, storage::work_order_def& def) {
  auto bad = [](const std::string& message) {
    return std::optional<query_reply>(error_reply(400, "bad_body", message));
  };
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return bad("the body must be a JSON object {\"id\", \"product\", \"quantity\", \"line\", "
               "\"revision\" (optional)}");
  for (const auto& [key, value] : doc.items())
    if (key != "id" && key != "product" && key != "quantity" && key != "line" &&
        key != "revision")
      return bad("unknown member '" + key.substr(0, 64) +
                 "' (expected id, product, quantity, line, revision)");
  for (auto [key, out] : {std::pair<const char*, std::string*>{"id", &def.ident},
                          {"product", &def.product},
                          {"line", &def.line}}) {
    auto it = doc.find(key);
    if (it == doc.end())
      return bad(std::string("'") + key + "' is required");
    if (!it->is_string() || !valid_ident(it->get<std::string>()))
      return bad(std::string("'") + key + "' must be a string of 1 to 64 characters A-Z a-z "
                                          "0-9 _ . -");
    *out = it->get<std::string>();
  }
  auto integer = [&](const char* key, int64_t& out, bool required) -> bool {
    auto it = doc.find(key);
    if (it == doc.end())
      return !required;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1'000'000'000)
      return false;
    out = it->get<int64_t>();
    return true;
  };
  if (!integer("quantity", def.quantity, true))
    return bad("'quantity' is required: a whole number of boards, 1 to 1000000000");
  if (!integer("revision", def.revision, false))
    return bad("'revision' must be a BOM revision number (1, 2, ...); leave it out for the "
               "latest");
  return std::nullopt;
}

void transition(const api_context& ctx, const request& req, httplib::Response& res,
                storage::work_order_action action) {
  std::string id;
  if (!order_id(req, res, id))
    return;
  if (req.params.error())
    return bad_param(res, *req.params.error());
  ctx.write(res, [id, action](storage::writer& db) {
    auto r = storage::work_order_transition(db, id, action, wall_ms());
    if (r.status != storage::mes_status::ok)
      return refusal(r);
    json_out w;
    w.begin_object();
    w.key("id").value(id);
    w.key("action").value(storage::to_string(action));
    w.key("previous_status").value(r.status_before);
    w.key("status").value(r.status_after);
    w.end_object();
    return query_reply{200, w.take()};
  });
}

} // namespace

void create_work_order(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  storage::work_order_def def;
  if (auto bad = parse_order(req.http.body, def))
    return send(res, *bad);
  const auto& lines = ctx.plant->lines;
  const config::line_config* line = endpoints::find_line(*ctx.plant, def.line);
  if (!line)
    return send_error(res, 422, "unknown_line", "no line '" + def.line + "' in the config");
  if (line->output.machine.empty())
    return send_error(
        res, 422, "no_output_counter",
        "line '" + def.line + "' has no output counter to count boards: set /lines/" +
            std::to_string(line - lines.data()) +
            "/output in the config ({\"machine\", \"metric\"}, docs/CONFIG.md) or give one of "
            "its machines oee.total");
  def.now_ms = wall_ms();
  ctx.write(res, [def](storage::writer& db) {
    auto r = storage::create_work_order(db, def);
    if (r.status != storage::mes_status::ok)
      return refusal(r);
    json_out w;
    w.begin_object();
    w.key("id").value(def.ident);
    w.key("product").value(def.product);
    w.key("revision").value(r.revision);
    w.key("line").value(def.line);
    w.key("quantity").value(def.quantity);
    w.key("status").value(r.status_after);
    w.key("created_ms").value(def.now_ms);
    w.end_object();
    return query_reply{201, w.take()};
  });
}

void start_work_order(const api_context& ctx, const request& req, httplib::Response& res) {
  transition(ctx, req, res, storage::work_order_action::start);
}

void pause_work_order(const api_context& ctx, const request& req, httplib::Response& res) {
  transition(ctx, req, res, storage::work_order_action::pause);
}

void complete_work_order(const api_context& ctx, const request& req, httplib::Response& res) {
  transition(ctx, req, res, storage::work_order_action::complete);
}

void work_orders(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  auto line = req.params.get("line");
  if (line && !endpoints::find_line(*ctx.plant, *line))
    return send_error(res, 404, "unknown_line",
                      valid_ident(*line) ? "no line '" + *line + "'" : "no line with that id");
  auto status = req.params.get("status");
  if (status && !statuses.count(*status))
    return bad_param(res, {"status", "bad 'status': expected created, running, paused or "
                                     "completed"});
  int64_t limit = 100;
  if (auto e = int_param(req.params, "limit", 1, 1000, limit))
    return bad_param(res, *e);
  ctx.query(res, [plant = ctx.plant, line, status, limit](storage::reader& db) {
    std::vector<order_facts> orders;
    {
      storage::read_snapshot snap(db);
      for (auto& o : storage::work_orders(db, line, status, limit))
        orders.push_back(read_facts(db, *plant, std::move(o), false));
    }
    const int64_t now = wall_ms();
    json_out w;
    w.begin_object().key("work_orders").begin_array();
    for (const auto& f : orders)
      order_json(w, db, f, now);
    w.end_array().end_object();
    return query_reply{200, w.take()};
  });
}

void work_order(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  if (!order_id(req, res, id))
    return;
  if (req.params.error())
    return bad_param(res, *req.params.error());
  ctx.query(res, [plant = ctx.plant, id](storage::reader& db) {
    std::optional<order_facts> f;
    {
      storage::read_snapshot snap(db);
      if (auto o = storage::work_order(db, id))
        f = read_facts(db, *plant, std::move(*o), true);
    }
    if (!f)
      return error_reply(404, "unknown_work_order", "no work order '" + id + "'");
    json_out w;
    order_json(w, db, *f, wall_ms());
    return query_reply{200, w.take()};
  });
}

} // namespace edgemes::api::handlers
