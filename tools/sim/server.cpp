#include "tools/sim/server.hpp"

#include "adapters/adapter.hpp"
#include "clock/clock.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace edgemes::sim {

namespace {

constexpr size_t huge_padding_bytes = 12u << 20;  // 12 MiB

void json_reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void error_reply(httplib::Response& res, int status, const std::string& message) {
  json_reply(res, status, {{"error", message}});
}

std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number_text(double v) {
  std::ostringstream ss;
  ss.precision(15);
  ss << v;
  return ss.str();
}

} // namespace

server::server(const std::vector<machine_spec>& machines, uint64_t seed, int64_t slow_ms,
               size_t threads, long keep_alive_s)
    : slow_ms_(slow_ms) {
  for (const auto& spec : machines) {
    machines_.emplace(spec.id, std::make_unique<machine>(spec, seed));
    order_.push_back(spec.id);
  }
  // Every keep-alive connection holds a worker while it is open, and a slow
  // fault holds one for slow_ms: size the pool so neither starves the others.
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_.set_keep_alive_max_count(keep_alive_s > 0 ? 1000000 : 1);
  http_.set_tcp_nodelay(true);  // no ~40 ms delayed-ACK stall per keep-alive reply
  http_.set_keep_alive_timeout(keep_alive_s > 0 ? keep_alive_s : 1);
  routes();
}

int server::bind(const std::string& host, int port) {
  listen_.install(http_);
  int bound = port == 0 ? http_.bind_to_any_port(host.c_str())
                        : (http_.bind_to_port(host.c_str(), port) ? port : -1);
  if (bound > 0)
    listen_.raise_backlog();
  return bound;
}

bool server::listen() { return http_.listen_after_bind(); }

void server::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mtx_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  http_.stop();
}

bool server::sleep_unless_stopped(int64_t ms) {
  std::unique_lock<std::mutex> lock(stop_mtx_);
  return !stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

const std::string& server::machine_type(size_t index) const {
  return machines_.at(order_.at(index))->model.type();  // immutable after construction
}

nlohmann::json server::modbus_reply(size_t index, bool fresh, fault& mode, bool& failing) {
  machine& m = *machines_.at(order_.at(index));
  std::lock_guard<std::mutex> lock(m.mtx);
  mode = m.mode;
  failing = mode == fault::http500;
  if (fresh || m.last.is_null()) {
    m.last = m.model.reply(edgemes::clock::wall_ms());
    ++m.requests;
    if (mode == fault::flap)
      failing = (m.flap_count++ % 2) == 1;
  }
  nlohmann::json reply = m.last;
  shape_state(reply, mode);
  return reply;
}

server::machine* server::find(const std::string& id) {
  auto it = machines_.find(id);
  return it == machines_.end() ? nullptr : it->second.get();
}

void server::routes() {
  http_.Get("/machines", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& id : order_) {
      machine& m = *machines_.at(id);
      std::lock_guard<std::mutex> lock(m.mtx);
      list.push_back({{"id", id}, {"type", m.model.type()}, {"fault", fault_name(m.mode)}});
    }
    json_reply(res, 200, {{"machines", list}});
  });

  http_.Get(R"(/machines/([^/]+)/status)", [this](const httplib::Request& req, httplib::Response& res) {
    machine* m = find(req.matches[1]);
    if (!m)
      return error_reply(res, 404, "no machine '" + std::string(req.matches[1]) + "'");
    status(*m, res);
  });

  http_.Get(R"(/machines/([^/]+)/served)", [this](const httplib::Request& req, httplib::Response& res) {
    machine* m = find(req.matches[1]);
    if (!m)
      return error_reply(res, 404, "no machine '" + std::string(req.matches[1]) + "'");
    std::lock_guard<std::mutex> lock(m->mtx);
    json_reply(res, 200, {{"machine", m->model.ident()}, {"seqs", m->served}});
  });

  auto set_fault = [this](const httplib::Request& req, httplib::Response& res) {
    machine* m = find(req.matches[1]);
    if (!m)
      return error_reply(res, 404, "no machine '" + std::string(req.matches[1]) + "'");
    auto mode = parse_fault(req.get_param_value("mode"));
    if (!mode)
      return error_reply(res, 400, "mode must be one of: " + std::string(fault_names()));
    std::lock_guard<std::mutex> lock(m->mtx);
    m->mode = *mode;
    m->flap_count = 0;
    json_reply(res, 200, {{"machine", m->model.ident()}, {"fault", fault_name(*mode)}});
  };
  http_.Post(R"(/machines/([^/]+)/fault)", set_fault);
  http_.Put(R"(/machines/([^/]+)/fault)", set_fault);

  // One machine in Prometheus text, advancing its model like a status poll:
  // a scrape target per machine does the same work as an edgemes poll.
  http_.Get(R"(/machines/([^/]+)/metrics)", [this](const httplib::Request& req, httplib::Response& res) {
    machine* m = find(req.matches[1]);
    if (!m)
      return error_reply(res, 404, "no machine '" + std::string(req.matches[1]) + "'");
    res.set_content(machine_metrics(*m), "text/plain; version=0.0.4");
  });

  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus(), "text/plain; version=0.0.4");
  });
}

void server::status(machine& m, httplib::Response& res) {
  nlohmann::json doc;
  fault mode;
  bool flap_bad = false;
  {
    std::lock_guard<std::mutex> lock(m.mtx);
    doc = m.model.reply(edgemes::clock::wall_ms());
    m.last = doc;
    ++m.requests;
    mode = m.mode;
    if (mode == fault::flap)
      flap_bad = (m.flap_count++ % 2) == 1;
  }
  const uint64_t seq = doc["seq"].get<uint64_t>();
  const std::string& type = m.model.type();  // immutable after construction

  switch (mode) {
  case fault::none:
    return send_json(m, seq, doc.dump(), res);
  case fault::flap:
    if (flap_bad)
      return error_reply(res, 500, "simulated controller fault (flapping)");
    return send_json(m, seq, doc.dump(), res);
  case fault::down:
    shape_state(doc, mode);
    return send_json(m, seq, doc.dump(), res);
  case fault::missing_fields:
    drop_some_fields(doc, type);
    return send_json(m, seq, doc.dump(), res);
  case fault::wrong_type:
    stringify_some_fields(doc, type);
    return send_json(m, seq, doc.dump(), res);
  case fault::huge:
    doc["padding"] = std::string(huge_padding_bytes, 'x');
    return send_json(m, seq, doc.dump(), res);
  case fault::http500:
    return error_reply(res, 500, "simulated controller fault");
  case fault::broken_json: {
    std::string body = doc.dump();
    body.resize(body.size() / 2);
    res.set_content(body, "application/json");
    return;
  }
  case fault::reset:
    // Headers promise a body, then the provider gives up: httplib closes the
    // connection mid-reply and the client sees a transport error.
    res.set_content_provider(1024, "application/json",
                             [](size_t, size_t, httplib::DataSink&) { return false; });
    return;
  case fault::slow:
    if (sleep_unless_stopped(slow_ms_))
      res.set_content(doc.dump(), "application/json");
    else
      error_reply(res, 503, "simulator shutting down");
    return;
  }
}

void server::send_json(machine& m, uint64_t seq, std::string body, httplib::Response& res) {
  auto data = std::make_shared<const std::string>(std::move(body));
  res.set_content_provider(
      data->size(), "application/json",
      [data](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(data->data() + offset, std::min<size_t>(length, 256 * 1024));
      },
      [&m, seq](bool success) {
        if (!success)
          return;
        std::lock_guard<std::mutex> lock(m.mtx);
        m.served.push_back(seq);
      });
}

void server::add_families(const std::string& id, const nlohmann::json& last, bool with_counts,
                          uint64_t requests, uint64_t served, families& out) {
  const std::string& type = machines_.at(id)->model.type();
  std::string labels = "machine=\"" + label_value(id) + "\",type=\"" + label_value(type) + "\"";
  if (with_counts) {
    out["edgemes_sim_requests_total"].push_back({labels, static_cast<double>(requests)});
    out["edgemes_sim_served_total"].push_back({labels, static_cast<double>(served)});
  }
  if (last.is_null())
    return;
  auto metrics = adapters::sim_standard_metrics(type);
  auto values = adapters::extractor(metrics, "").apply(last).values;
  for (size_t i = 0; i < metrics.size(); ++i)
    if (!std::isnan(values[i]))
      out["edgemes_sim_" + metrics[i].first].push_back({labels, values[i]});
  if (last.contains("state") && last["state"].is_string())
    out["edgemes_sim_state"].push_back(
        {labels + ",state=\"" + label_value(last["state"].get<std::string>()) + "\"", 1.0});
}

std::string server::prometheus() {
  families all;
  for (const auto& id : order_) {
    machine& m = *machines_.at(id);
    nlohmann::json last;
    uint64_t requests, served;
    {
      std::lock_guard<std::mutex> lock(m.mtx);
      last = m.last;
      requests = m.requests;
      served = m.served.size();
    }
    add_families(id, last, true, requests, served, all);
  }
  return exposition(all);
}

std::string server::machine_metrics(machine& m) {
  nlohmann::json doc;
  {
    std::lock_guard<std::mutex> lock(m.mtx);
    doc = m.model.reply(edgemes::clock::wall_ms());
    m.last = doc;
    ++m.requests;
  }
  families one;
  add_families(m.model.ident(), doc, false, 0, 0, one);
  return exposition(one);
}

std::string server::exposition(const families& families) {
  std::string out;
  for (const auto& [name, samples] : families) {
    bool counter = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    out += "# TYPE " + name + (counter ? " counter\n" : " gauge\n");
    for (const auto& s : samples)
      out += name + "{" + s.labels + "} " + number_text(s.value) + "\n";
  }
  return out;
}

} // namespace edgemes::sim
