// POST /api/v1/admin/backup (api/handlers.hpp): a consistent copy of the
// database, written into backup_dir only (never a client-chosen path). Its
// route needs an admin token (api/routes.cpp): without one configured every
// request is anonymous and the route answers 403 before this runs. It answers
// 409 while another backup runs.
#include "api/handlers.hpp"

#include "api/json_out.hpp"
#include "api/server.hpp"
#include "clock/clock.hpp"
#include "log/log.hpp"
#include "storage/backup.hpp"

#include <httplib.h>

#include <ctime>
#include <filesystem>

namespace edgemes::api::handlers {

namespace {

// "20261125T163000123Z": sortable, no characters a file system dislikes.
std::string utc_stamp(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// <backup_dir>/<db name>-<UTC stamp>.db; backup_dir defaults to <db dir>/backups.
std::filesystem::path backup_path(const server_settings& s, std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  dir = s.backup_dir.empty() ? fs::path(s.db_path).parent_path() / "backups"
                             : fs::path(s.backup_dir);
  return dir / (fs::path(s.db_path).stem().string() + "-" + utc_stamp(clock::wall_ms()) + ".db");
}

} // namespace

void backup(const api_context& ctx, const request& req, httplib::Response& res) {
  const auto& s = ctx.settings;
  if (req.params.error())
    return bad_param(res, *req.params.error());
  std::unique_lock<std::mutex> lock(ctx.backup_mutex, std::try_to_lock);
  if (!lock.owns_lock())
    return send_error(res, 409, "backup_running", "a backup is already running; retry later");
  std::filesystem::path dir;
  auto out = backup_path(s, dir);
  try {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return send_error(res, 500, "storage",
                        "cannot create backup directory " + dir.string() + ": " + ec.message());
    auto r = storage::backup(s.db_path, out.string(), s.db_options);
    log::info("api", "backup written to " + out.string() + " (" + std::to_string(r.bytes) +
                         " bytes in " + std::to_string(r.ms) + " ms)");
    json_out w;
    w.begin_object();
    w.key("path").value(out.string());
    w.key("bytes").value(r.bytes);
    w.key("pages").value(r.pages);
    w.key("ms").value(r.ms);
    w.end_object();
    res.set_content(w.take(), "application/json");
  } catch (const storage::db_error& e) {
    send_error(res, 500, "storage", e.what());
  }
}

} // namespace edgemes::api::handlers
