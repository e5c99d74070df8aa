#include "storage/backup.hpp"

#include "storage/connection.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <unistd.h>

namespace edgemes::storage {

namespace {

struct db_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

db_ptr open_db(const std::string& path, int flags, const std::string& what) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK)
    detail::fail(db.get(), rc, what + " " + path);
  return db;
}

[[noreturn]] void os_fail(const std::string& what) {
  throw db_error(SQLITE_IOERR, what + ": " + std::strerror(errno));
}

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    os_fail("open " + path + " for fsync");
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0)
    os_fail("fsync " + path);
}

} // namespace

backup_result backup(const std::string& db_path, const std::string& out_path,
                     const options& opts) {
  namespace fs = std::filesystem;
  auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  if (fs::exists(out_path, ec))
    throw db_error(SQLITE_CANTOPEN, "backup target " + out_path + " already exists");
  if (!fs::exists(db_path, ec))
    throw db_error(SQLITE_CANTOPEN, "no database at " + db_path);
  std::string part = out_path + ".part";
  fs::remove(part, ec);

  // Read-only source: never writes, never checkpoints the live file.
  auto src = open_db(db_path, SQLITE_OPEN_READONLY, "open (read-only)");
  detail::apply_pragmas(src.get(), opts);
  detail::exec(src.get(), "PRAGMA query_only=1", "PRAGMA query_only");

  backup_result result;
  {
    auto dst = open_db(part, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "create backup");
    sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
    if (!b)
      detail::fail(dst.get(), sqlite3_errcode(dst.get()), "start backup to " + part);
    // One step copies every page under one read snapshot; a source busy with
    // a write lock is waited for (WAL readers rarely are).
    int rc = SQLITE_OK;
    for (int tries = 0; tries < 100; ++tries) {
      rc = sqlite3_backup_step(b, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        break;
      sqlite3_sleep(50);
    }
    result.pages = sqlite3_backup_pagecount(b);
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE || frc != SQLITE_OK) {
      std::string msg = sqlite3_errstr(rc != SQLITE_DONE ? rc : frc);
      dst.reset();
      fs::remove(part, ec);
      throw db_error(rc != SQLITE_DONE ? rc : frc,
                     "backup of " + db_path + " to " + out_path + " failed: " + msg);
    }
  }
  fsync_path(part, O_RDONLY);
  if (std::rename(part.c_str(), out_path.c_str()) != 0)
    os_fail("rename " + part + " to " + out_path);
  auto dir = fs::path(out_path).parent_path();
  fsync_path(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY);
  result.bytes = static_cast<int64_t>(fs::file_size(out_path, ec));
  result.ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0).count();
  return result;
}

} // namespace edgemes::storage
