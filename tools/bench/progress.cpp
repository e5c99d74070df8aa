#include "tools/bench/progress.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <unistd.h>
#include <stdexcept>

namespace edgemes::bench {

namespace {

// The number after "key:" in a /proc file of "key: value" lines.
int64_t proc_field(const char* file, const char* key) {
  std::ifstream in(file);
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line))
    if (line.compare(0, prefix.size(), prefix) == 0)
      return std::stoll(line.substr(prefix.size()));  // "VmRSS:    12345 kB"
  return 0;
}

} // namespace

int64_t file_bytes(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

int64_t rss_kib() { return proc_field("/proc/self/status", "VmRSS"); }
int64_t peak_rss_kib() { return proc_field("/proc/self/status", "VmHWM"); }
int64_t io_write_bytes() { return proc_field("/proc/self/io", "write_bytes"); }

std::map<std::string, double> cpu_s_by_thread() {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // "tid (comm) state ppid ... utime stime ...": comm may hold spaces and
    // parentheses, so the fields after it are counted from the last ')'.
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open)
      continue;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    long long utime = 0, stime = 0;
    for (int i = 3; fields >> f; ++i) {  // field 3 is the state
      if (i == 14)
        utime = std::stoll(f);
      else if (i == 15) {
        stime = std::stoll(f);
        break;
      }
    }
    out[text.substr(open + 1, close - open - 1)] += static_cast<double>(utime + stime) / tick;
  }
  return out;
}

void remove_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    std::filesystem::remove(path + suffix, ec);
    if (ec)
      throw std::runtime_error("cannot remove " + path + suffix + " to start empty: " +
                               ec.message());
  }
}

recorder::recorder(std::string mode, std::string db_path, bool json, nlohmann::json params)
    : mode_(std::move(mode)), db_path_(std::move(db_path)), json_(json),
      params_(std::move(params)) {}

std::FILE* recorder::human() const { return json_ ? stderr : stdout; }

void recorder::start() {
  t0_ = std::chrono::steady_clock::now();
  written0_ = io_write_bytes();
}

double recorder::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void recorder::record(int64_t samples, int64_t rows, int64_t dropped) {
  point p;
  p.samples = samples;
  p.rows = rows;
  p.elapsed_s = elapsed_s();
  const point prev = points_.empty() ? point{} : points_.back();
  double dt = p.elapsed_s - prev.elapsed_s;
  p.interval_rate = dt > 0 ? static_cast<double>(samples - prev.samples) / dt : 0;
  p.cumulative_rate = p.elapsed_s > 0 ? static_cast<double>(samples) / p.elapsed_s : 0;
  p.db_bytes = file_bytes(db_path_) + file_bytes(db_path_ + "-wal");
  p.bytes_per_sample = samples > 0 ? static_cast<double>(p.db_bytes) / samples : 0;
  p.rss_kib = rss_kib();
  p.dropped = dropped;
  p.written_bytes = io_write_bytes() - written0_;
  points_.push_back(p);
  std::fprintf(human(),
               "%s %10lld samples %9lld rows %8.1f s %9.0f samples/s (avg %9.0f) "
               "file+wal %7.1f MiB %5.1f B/sample written %7.1f MiB rss %6.1f MiB dropped %lld\n",
               mode_.c_str(), static_cast<long long>(samples), static_cast<long long>(rows),
               p.elapsed_s, p.interval_rate, p.cumulative_rate, p.db_bytes / 1048576.0,
               p.bytes_per_sample, p.written_bytes / 1048576.0, p.rss_kib / 1024.0, static_cast<long long>(dropped));
  std::fflush(human());
}

void recorder::finish(int64_t samples, int64_t rows, double elapsed_s, int64_t stored_samples,
                      nlohmann::json summary) {
  int64_t db = file_bytes(db_path_) + file_bytes(db_path_ + "-wal");
  summary["samples"] = samples;
  summary["rows"] = rows;
  summary["elapsed_s"] = elapsed_s;
  summary["samples_per_s"] = elapsed_s > 0 ? samples / elapsed_s : 0.0;
  summary["db_bytes"] = db;
  summary["stored_samples"] = stored_samples;
  summary["bytes_per_sample"] =
      stored_samples > 0 ? static_cast<double>(db) / stored_samples : 0.0;
  summary["peak_rss_kib"] = peak_rss_kib();
  // CPU per thread name, taken by the caller while its threads still ran
  // (a finished thread leaves /proc/self/task), else now; and per sample.
  if (!summary.contains("cpu_s_by_thread"))
    summary["cpu_s_by_thread"] = cpu_s_by_thread();
  nlohmann::json per_sample = nlohmann::json::object();
  for (auto& [name, s] : summary["cpu_s_by_thread"].items())
    per_sample[name] = samples > 0 ? s.get<double>() * 1e6 / static_cast<double>(samples) : 0.0;
  summary["cpu_us_per_sample_by_thread"] = per_sample;
  // Disk traffic per sample stored: WAL frames plus checkpoint copies.
  const int64_t written = io_write_bytes() - written0_;
  summary["written_bytes"] = written;
  summary["written_bytes_per_sample"] =
      stored_samples > 0 ? static_cast<double>(written) / stored_samples : 0.0;
  std::fprintf(human(), "summary %s: %s\n", mode_.c_str(), summary.dump().c_str());
  std::fflush(human());
  if (!json_)
    return;
  nlohmann::json doc;
  doc["mode"] = mode_;
  doc["params"] = params_;
  doc["summary"] = summary;
  doc["points"] = nlohmann::json::array();
  for (const auto& p : points_)
    doc["points"].push_back({{"samples", p.samples},
                             {"rows", p.rows},
                             {"elapsed_s", p.elapsed_s},
                             {"interval_rate", p.interval_rate},
                             {"cumulative_rate", p.cumulative_rate},
                             {"db_bytes", p.db_bytes},
                             {"bytes_per_sample", p.bytes_per_sample},
                             {"rss_kib", p.rss_kib},
                             {"dropped", p.dropped},
                             {"written_bytes", p.written_bytes}});
  std::printf("%s\n", doc.dump().c_str());
  std::fflush(stdout);
}

} // namespace edgemes::bench
