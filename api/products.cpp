// Products and their BOMs (api/handlers.hpp; docs/API.md, "Products and
// BOMs"): the import (POST /api/v1/products/{id}/bom) and its reads.
//
// The import parses the CSV on the HTTP thread (mes/bom_csv: pure CPU, no
// SQLite, bounded by max_bom_bytes) and only a file without any problem
// becomes a write job: the new revision and every item in one transaction on
// the writer (storage/mes.hpp). A file with problems answers 422 with every
// problem and writes nothing.
#include "api/handlers.hpp"

#include "api/json_out.hpp"
#include "api/server.hpp"
#include "clock/clock.hpp"
#include "mes/bom_csv.hpp"
#include "storage/dashboard.hpp"
#include "storage/mes.hpp"
#include "storage/mes_reads.hpp"

#include <httplib.h>

#include <functional>

namespace edgemes::api::handlers {

namespace {

namespace bom_csv = mes::bom_csv;

// The header names a query parameter gives for one column: "A|B" -> {A, B}.
std::vector<std::string> header_names(const std::string& value) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= value.size()) {
    size_t end = value.find('|', at);
    if (end == std::string::npos)
      end = value.size();
    out.push_back(value.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// The parser's options from the query string: separator and header names.
std::optional<param_error> parse_bom_options(const query_params& q, bom_csv::options& opts) {
  opts.max_bytes = max_bom_bytes;
  if (auto sep = q.get("separator")) {
    if (*sep == "tab")
      opts.separator = '\t';
    else if (sep->size() == 1 && *sep != "\"" && *sep != "\r" && *sep != "\n")
      opts.separator = (*sep)[0];
    else
      return param_error{"separator",
                         "bad 'separator': expected one character (';', ',') or 'tab'"};
  }
  struct column {
    const char* param;
    std::vector<std::string>& names;
  };
  for (const column& c : {column{"designators_header", opts.columns.designators},
                          column{"part_number_header", opts.columns.part_number},
                          column{"quantity_header", opts.columns.quantity},
                          column{"description_header", opts.columns.description},
                          column{"side_header", opts.columns.side}}) {
    auto v = q.get(c.param);
    if (!v)
      continue;
    if (v->empty() || v->size() > 200)
      return param_error{c.param, std::string("bad '") + c.param +
                                      "': expected header names separated by '|', at most "
                                      "200 characters"};
    c.names = header_names(*v);
  }
  return std::nullopt;
}

// A free text parameter (name, source): at most 200 bytes, no control characters.
std::optional<param_error> text_param(const query_params& q, const char* name, std::string& out) {
  auto v = q.get(name);
  if (!v)
    return std::nullopt;
  bool clean = v->size() <= 200;
  for (unsigned char c : *v)
    clean = clean && c >= 0x20 && c != 0x7f;
  if (!clean)
    return param_error{name, std::string("bad '") + name +
                                 "': at most 200 characters, no control characters"};
  out = *v;
  return std::nullopt;
}

// 422 with every problem the parser found, each as line, column, header and message.
query_reply bom_problems(const bom_csv::result& r) {
  const size_t total = r.problems.size() + r.problems_omitted;
  json_out w;
  w.begin_object().key("error").begin_object();
  w.key("code").value("bom_invalid");
  w.key("message").value("the BOM has " + std::to_string(total) + " problem" +
                         (total == 1 ? "" : "s") + "; nothing was imported");
  w.key("problems").begin_array();
  for (const auto& p : r.problems) {
    w.begin_object();
    w.key("line").value(static_cast<int64_t>(p.line));
    w.key("column").value(static_cast<int64_t>(p.column));
    w.key("header").value(p.column_name);
    w.key("message").value(p.message);
    w.key("text").value(bom_csv::format(p));
    w.end_object();
  }
  w.end_array();
  w.key("problems_omitted").value(static_cast<int64_t>(r.problems_omitted));
  w.end_object().end_object();
  return {422, w.take()};
}

std::vector<storage::bom_item_row> to_rows(std::vector<bom_csv::item>& items) {
  std::vector<storage::bom_item_row> rows;
  rows.reserve(items.size());
  for (auto& i : items)
    rows.push_back({std::move(i.part_number), i.quantity, std::move(i.designators),
                    std::move(i.description), bom_csv::to_string(i.side),
                    static_cast<int64_t>(i.line)});
  return rows;
}

// The product id in the path; false after answering 404 for one that cannot exist.
bool product_id(const request& req, httplib::Response& res, std::string& out) {
  out = req.http.matches[1];
  if (valid_ident(out))
    return true;
  send_error(res, 404, "unknown_product", "no product with that id");
  return false;
}

void revision_fields(json_out& w, const storage::bom_revision_info& r) {
  w.key("revision").value(r.revision);
  w.key("imported_ms").value(r.imported_ms);
  w.key("source").value(r.source);
  w.key("items").value(r.items);
  w.key("components").value(r.components);
  w.key("work_orders").value(r.work_orders);
}

// One product as an object; `more` adds members before it closes.
void product_json(json_out& w, const storage::product_info& p,
                  const std::function<void()>& more = {}) {
  w.begin_object();
  w.key("id").value(p.ident);
  w.key("name").value(p.name);
  w.key("created_ms").value(p.created_ms);
  w.key("revisions").value(p.revisions);
  w.key("latest_revision").value(p.latest_revision);
  if (more)
    more();
  w.end_object();
}

query_reply unknown_product(const std::string& id) {
  return error_reply(404, "unknown_product", "no product '" + id + "'");
}

} // namespace

void import_bom(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string product = req.http.matches[1];
  if (!valid_ident(product))
    return send_error(res, 400, "bad_product_id",
                      "a product id is 1 to 64 characters of A-Z a-z 0-9 _ . -");
  if (req.params.error())
    return bad_param(res, *req.params.error());
  bom_csv::options opts;
  storage::bom_import in;
  std::optional<param_error> e = parse_bom_options(req.params, opts);
  if (!e)
    e = text_param(req.params, "name", in.name);
  if (!e)
    e = text_param(req.params, "source", in.source);
  if (e)
    return bad_param(res, *e);
  auto parsed = bom_csv::parse(req.http.body, opts);
  if (!parsed.ok())
    return send(res, bom_problems(parsed));
  in.product = std::move(product);
  in.now_ms = clock::wall_ms();
  in.items = to_rows(parsed.items);
  ctx.write(res, [in = std::move(in)](storage::writer& db) {
    auto r = storage::import_bom(db, in);
    json_out w;
    w.begin_object();
    w.key("product").value(in.product);
    w.key("revision").value(r.revision);
    w.key("items").value(r.items);
    w.key("components").value(r.components);
    w.key("product_created").value(r.product_created);
    w.end_object();
    return query_reply{201, w.take()};
  });
}

void products(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  ctx.query(res, [](storage::reader& db) {
    json_out w;
    w.begin_object().key("products").begin_array();
    for (const auto& p : storage::products(db))
      product_json(w, p);
    w.end_array().end_object();
    return query_reply{200, w.take()};
  });
}

void product(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  if (!product_id(req, res, id))
    return;
  if (req.params.error())
    return bad_param(res, *req.params.error());
  ctx.query(res, [id](storage::reader& db) {
    storage::read_snapshot snap(db);
    auto p = storage::product(db, id);
    if (!p)
      return unknown_product(id);
    json_out w;
    product_json(w, *p, [&] {
      w.key("bom_revisions").begin_array();
      for (const auto& r : storage::bom_revisions(db, id)) {
        w.begin_object();
        revision_fields(w, r);
        w.end_object();
      }
      w.end_array();
    });
    return query_reply{200, w.take()};
  });
}

void product_bom(const api_context& ctx, const request& req, httplib::Response& res) {
  std::string id;
  if (!product_id(req, res, id))
    return;
  if (req.params.error())
    return bad_param(res, *req.params.error());
  int64_t revision = 0;
  if (auto e = int_param(req.params, "revision", 1, 1'000'000'000, revision))
    return bad_param(res, *e);
  ctx.query(res, [id, revision](storage::reader& db) {
    storage::read_snapshot snap(db);
    auto rev = storage::bom_revision(db, id, revision);
    if (!rev) {
      if (!storage::product(db, id))
        return unknown_product(id);
      return error_reply(404, "unknown_revision",
                         revision > 0 ? "product '" + id + "' has no BOM revision " +
                                            std::to_string(revision)
                                      : "product '" + id + "' has no BOM");
    }
    json_out w;
    w.begin_object();
    w.key("product").value(id);
    revision_fields(w, *rev);
    w.key("bom").begin_array();
    int64_t position = 0;
    for (const auto& i : storage::bom_items(db, id, rev->revision)) {
      w.begin_object();
      w.key("position").value(++position);
      w.key("part_number").value(i.part_number);
      w.key("quantity").value(i.quantity);
      w.key("designators").begin_array();
      for (const auto& d : i.designators)
        w.value(d);
      w.end_array();
      w.key("description").value(i.description);
      w.key("side").text_or_null(i.side);
      w.key("csv_line").value(i.csv_line);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return query_reply{200, w.take()};
  });
}

} // namespace edgemes::api::handlers
