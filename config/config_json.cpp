// config/config_json: a parsed config written back in the file's shape, every
// key present. tests/config/config_doc_test.cpp compares docs/CONFIG.md's keys
// and defaults with to_json(config{}).
#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace edgemes::config {

namespace {

using ojson = nlohmann::ordered_json;

ojson database_json(const database_config& d) {
  return {{"path", d.path},
          {"synchronous", d.synchronous},
          {"cache_size_kib", d.cache_size_kib},
          {"memory_limit_kib", d.memory_limit_kib},
          {"read_cache_size_kib", d.read_cache_size_kib},
          {"busy_timeout_ms", d.busy_timeout_ms},
          {"foreign_keys", d.foreign_keys},
          {"wal_autocheckpoint_pages", d.wal_autocheckpoint_pages},
          {"journal_size_limit_bytes", d.journal_size_limit_bytes},
          {"wal_max_bytes", d.wal_max_bytes},
          {"checkpoint_interval_ms", d.checkpoint_interval_ms},
          {"retention_days", d.retention_days},
          {"chunk_window_ms", d.chunk_window_ms},
          {"compaction_grace_ms", d.compaction_grace_ms},
          {"head_memory_limit_kib", d.head_memory_limit_kib},
          {"status_interval_ms", d.status_interval_ms}};
}

ojson source_json(const source_config& s) {
  return {{"adapter", s.adapter},
          {"url", s.url},
          {"timeout_ms", s.timeout_ms},
          {"max_reply_bytes", s.max_reply_bytes},
          {"seed", s.seed},
          {"host", s.host},
          {"port", s.port},
          {"unit_id", s.unit_id},
          {"max_registers_per_read", s.max_registers_per_read},
          {"max_gap", s.max_gap},
          {"broker", s.broker},
          {"topic", s.topic},
          {"stale_after_ms", s.stale_after_ms},
          {"timestamp", s.timestamp},
          {"max_payload_bytes", s.max_payload_bytes}};
}

ojson register_json(const register_config& r) {
  return {{"table", r.table},         {"address", r.address},       {"type", r.type},
          {"word_order", r.word_order}, {"byte_order", r.byte_order}, {"scale", r.scale},
          {"offset", r.offset}};
}

ojson broker_json(const mqtt_broker_config& b) {
  return {{"id", b.id},
          {"host", b.host},
          {"port", b.port},
          {"client_id", b.client_id},
          {"username", b.username},
          {"password_file", b.password_file},
          {"ca_file", b.ca_file},
          {"cert_file", b.cert_file},
          {"key_file", b.key_file},
          {"keepalive_s", b.keepalive_s},
          {"max_pending_bytes", b.max_pending_bytes}};
}

ojson machine_json(const machine_config& m) {
  const bool registers = m.source.adapter == "modbus_tcp";
  ojson metrics = ojson::object();
  for (size_t i = 0; i < m.metrics.size(); ++i) {
    const auto& [name, pointer] = m.metrics[i];
    if (registers && i < m.registers.metrics.size())
      metrics[name] = register_json(m.registers.metrics[i]);
    else
      metrics[name] = pointer;
  }
  ojson state = m.state;
  if (registers) {
    state = nullptr;
    if (m.registers.has_state) {
      state = register_json(m.registers.state);
      ojson texts = ojson::object();
      for (const auto& [code, text] : m.registers.state_map)
        texts[std::to_string(code)] = text;
      state["map"] = texts;
    }
  }
  return {{"id", m.id},
          {"name", m.name},
          {"type", m.type},
          {"poll_interval_ms", m.poll_interval_ms},
          {"source", source_json(m.source)},
          {"metrics", metrics},
          {"state", state},
          {"dashboard",
           {{"key_metrics", m.dashboard.key_metrics},
            {"sparkline", m.dashboard.sparkline},
            {"counters", m.dashboard.counters}}},
          {"e10", m.e10},
          {"oee",
           {{"ideal_cycle_s", m.oee.ideal_cycle_s},
            {"total", m.oee.total},
            {"good", m.oee.good},
            {"reject", m.oee.reject}}},
          {"placements", m.placements}};
}

std::string hh_mm(int minute) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", minute / 60 % 24, minute % 60);
  return text;
}

} // namespace

nlohmann::ordered_json to_json(const config& c) {
  ojson shifts = ojson::array();
  for (const auto& s : c.shifts)
    shifts.push_back({{"name", s.name}, {"start", hh_mm(s.start_minute)}});
  ojson lines = ojson::array();
  for (const auto& l : c.lines) {
    ojson machines = ojson::array();
    for (const auto& m : l.machines)
      machines.push_back(machine_json(m));
    lines.push_back({{"id", l.id},
                     {"name", l.name},
                     {"machines", machines},
                     {"output", {{"machine", l.output.machine}, {"metric", l.output.metric}}}});
  }
  ojson brokers = ojson::array();
  for (const auto& b : c.mqtt.brokers)
    brokers.push_back(broker_json(b));
  ojson tokens = ojson::array();  // where each token is, never the token
  for (const auto& t : c.api.tokens)
    tokens.push_back({{"role", role_name(t.role)}, {"file", t.file}, {"name", t.name}});
  return {{"site", c.site},
          {"database", database_json(c.database)},
          {"writer",
           {{"max_batch", c.writer.max_batch},
            {"flush_interval_ms", c.writer.flush_interval_ms},
            {"max_queue", c.writer.max_queue}}},
          {"api",
           {{"bind", c.api.bind},
            {"port", c.api.port},
            {"query_actors", c.api.query_actors},
            {"request_timeout_ms", c.api.request_timeout_ms},
            {"max_pending", c.api.max_pending},
            {"token", c.api.token.empty() ? "" : "(set)"},
            {"tokens", tokens}}},
          {"pollers",
           {{"http_workers", c.pollers.http_workers},
            {"max_backoff_ms", c.pollers.max_backoff_ms},
            {"offline_after_failures", c.pollers.offline_after_failures}}},
          {"mqtt", {{"brokers", brokers}}},
          {"shifts", shifts},
          {"run_states", c.run_states},
          {"e10", {{"types", c.e10.types}}},
          {"lines", lines}};
}

} // namespace edgemes::config
