// clock: the one seam for wall-clock time, as LevelDB's Env is its seam for
// the operating system.
//
// Every timestamp edgemes stores or serves is integer epoch milliseconds read
// through wall_ms(): the pollers stamping polls, the writer's retention and
// commit times, the API's default ranges, the simulated machines in-process
// and in edgemes-sim. A test installs a manual_clock to step time (a clock
// jump, a shift boundary, a retention cut-off) without waiting for it.
//
// Intervals and deadlines (poll schedules, request timeouts) are measured on
// std::chrono::steady_clock, which never jumps: a wall-clock step must not
// stall or hurry a schedule, only change the stamps.
//
// Thread-safety: wall_ms() may be called from any thread at any time; the
// installed clock is read through an atomic pointer.
#pragma once

#include <atomic>
#include <cstdint>

namespace edgemes::clock {

// A source of wall-clock time.
class clock_source {
public:
  virtual ~clock_source() = default;
  virtual int64_t wall_ms() const = 0;  // milliseconds since the Unix epoch
};

// The operating system's clock (std::chrono::system_clock).
const clock_source& system_clock();

// The time on the installed clock (the system clock unless a test installed another).
int64_t wall_ms();

// Makes `c` the clock wall_ms() reads; nullptr restores the system clock.
// REQUIRES: `c` outlives every wall_ms() call made while it is installed.
void install(const clock_source* c);

// A clock that moves only when told to. Installs itself for its lifetime
// (restoring the system clock after), so a test writes:
//   clock::manual_clock t(1'700'000'000'000);
//   ... t.advance(60'000); ...
class manual_clock final : public clock_source {
public:
  explicit manual_clock(int64_t start_ms) : now_(start_ms) { install(this); }
  ~manual_clock() override { install(nullptr); }
  manual_clock(const manual_clock&) = delete;
  manual_clock& operator=(const manual_clock&) = delete;

  int64_t wall_ms() const override { return now_.load(std::memory_order_relaxed); }
  void set(int64_t ms) { now_.store(ms, std::memory_order_relaxed); }
  void advance(int64_t ms) { now_.fetch_add(ms, std::memory_order_relaxed); }

private:
  std::atomic<int64_t> now_;
};

} // namespace edgemes::clock
