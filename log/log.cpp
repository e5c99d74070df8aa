#include "log/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace edgemes::log {

namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::mutex out_mtx;

const char* name(level l) {
  switch (l) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warn: return "WARN";
    case level::error: return "ERROR";
  }
  return "?";
}

} // namespace

void set_min_level(level l) {
  min_level = static_cast<int>(l);
}

void write(level l, const std::string& component, const std::string& text) {
  if (static_cast<int>(l) < min_level.load(std::memory_order_relaxed))
    return;
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];  // room for any int the format could print, so -Wformat-truncation is quiet
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fprintf(stderr, "%s %-5s %s: %s\n", stamp, name(l), component.c_str(), text.c_str());
  std::fflush(stderr);
}

} // namespace edgemes::log
