// tests/support: real parts for tests — temp directories on disk, free
// loopback ports, child processes that are always stopped, HTTP on 127.0.0.1,
// and waiting for a condition with a deadline (never a fixed sleep and hope).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

namespace edgemes::test {

// A fresh directory under /tmp, removed with everything in it on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Path of a built binary (e.g. "edgemes", "edgemes-sim").
std::string binary(const std::string& name);
// Path under the source tree.
std::string source_path(const std::string& relative);

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// A child process; stdout+stderr go to `log_path`. Killed (SIGKILL) and reaped
// on destruction if still running.
class process {
public:
  process(const std::vector<std::string>& argv, const std::string& log_path);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal if killed), or -1 on deadline.
  int wait(std::chrono::milliseconds deadline);
  std::string log() const;
private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string log_path_;
};

struct http_reply {
  int status = 0;          // 0 = no reply (connection failed)
  std::string body;
  std::string content_type;
};

http_reply http_get(int port, const std::string& target,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
http_reply http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body = "",
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// Polls `condition` every 20 ms until true or `deadline` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

int64_t now_ms();

// A gate threads wait on (a pool's jobs, a server's handlers) until the test
// opens it.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [this] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(m);
      open = true;
    }
    cv.notify_all();
  }
};

} // namespace edgemes::test
