// GET /api/v1/health (api/handlers.hpp): the daemon's own state, read from the
// writer's gauge, the file system and /proc without a query, so it answers
// even while every query worker is busy (api/admission.hpp keeps HTTP threads
// free for it).
#include "api/handlers.hpp"

#include "api/json_out.hpp"
#include "api/server.hpp"
#include "clock/clock.hpp"
#include "storage/database.hpp"

#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace edgemes::api::handlers {

namespace {

int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// VmRSS of this process in KiB (/proc/self/status), -1 when unreadable.
int64_t rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtoll(line.c_str() + 6, nullptr, 10);
  return -1;
}

void writer_json(json_out& w, const actors::ingest_gauge& g, bool failing) {
  w.begin_object();
  w.key("queue_depth").value(g.held_samples());
  w.key("queue_reports").value(g.held_reports());
  w.key("max_queue").value(g.max_queue());
  w.key("samples_committed").value(g.committed_samples());
  w.key("rows_committed").value(g.committed_rows());
  w.key("commits").value(g.commits());
  w.key("last_commit").ms_or_null(g.last_commit_ms());
  w.key("dropped_samples").value(g.dropped_samples());
  w.key("dropped_reports").value(g.dropped_reports());
  w.key("duplicates").value(g.duplicates());
  w.key("compactions").value(g.compactions());
  w.key("compacted_polls").value(g.compacted_polls());
  w.key("late_polls").value(g.late_polls());
  w.key("head_polls").value(g.head_polls());
  w.key("head_bytes").value(g.head_bytes());
  w.key("head_spills").value(g.head_spills());
  w.key("error");
  failing ? w.value(g.writer_error()) : w.null();
  w.end_object();
}

void memory_json(json_out& w) {
  auto heap = storage::sqlite_heap();
  w.begin_object();
  w.key("rss_kib").value(rss_kib());
  w.key("sqlite_bytes").value(heap.used_bytes);
  w.key("sqlite_highwater_bytes").value(heap.highwater_bytes);
  w.key("sqlite_limit_bytes").value(heap.soft_limit_bytes);
  w.end_object();
}

} // namespace

void health(const api_context& ctx, const request& req, httplib::Response& res) {
  if (req.params.error())
    return bad_param(res, *req.params.error());
  const auto& s = ctx.settings;
  auto now = clock::wall_ms();
  const bool failing = ctx.gauge.writer_failing();  // one reading for status and error
  json_out w;
  w.begin_object();
  w.key("status").value(failing ? "degraded" : "ok");
  w.key("site").value(s.site);
  w.key("version").value(s.version);
  w.key("now").value(now);
  w.key("started").value(ctx.started_ms);
  w.key("uptime_s").value((now - ctx.started_ms) / 1000);
  w.key("writer");
  writer_json(w, ctx.gauge, failing);
  w.key("pollers").begin_object().key("missed_polls").value(ctx.gauge.missed_polls()).end_object();
  w.key("api").begin_object().key("requests").value(ctx.requests.load()).end_object();
  w.key("database").begin_object();
  w.key("path").value(s.db_path);
  w.key("size_bytes").value(file_size(s.db_path));
  w.key("wal_bytes").value(file_size(s.db_path + "-wal"));
  w.end_object();
  w.key("memory");
  memory_json(w);
  w.key("mqtt").begin_object().key("brokers").begin_array();
  if (s.brokers)
    for (const auto& b : s.brokers()) {
      w.begin_object();
      w.key("id").value(b.id);
      w.key("host").value(b.host);
      w.key("port").value(static_cast<int64_t>(b.port));
      w.key("connected").value(b.connected);
      w.key("since").ms_or_null(b.since_ms);
      w.key("connects").value(b.connects);
      w.key("messages").value(b.messages);
      w.key("unrouted").value(b.unrouted);
      w.key("retained_ignored").value(b.retained_ignored);
      w.key("last_error").value(b.last_error);
      w.end_object();
    }
  w.end_array().end_object();
  w.end_object();
  res.set_content(w.take(), "application/json");
}

} // namespace edgemes::api::handlers
