// actors/ingest: the bound on samples held between pollers and the disk.
//
// CAF 0.17 has no bounded mailboxes, so the bound lives here: a poller
// reserves its poll's samples *before* sending them to the writer, and the
// writer releases them once they are committed. A reservation that would
// take the held count past max_queue fails; the poller then drops the poll
// and it is counted in dropped_samples — never silent, never unbounded.
// held_reports bounds the messages themselves (a failed poll carries a status
// but no samples), by the same max_queue.
//
// Also the writer's public counters, read by /api/v1/health without asking
// the (possibly busy) writer actor. All members are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace edgemes::actors {

class ingest_gauge {
public:
  explicit ingest_gauge(int64_t max_queue) : max_queue_(max_queue) {}

  // Reserves room for one report carrying `samples` samples.
  bool try_reserve(int64_t samples) {
    if (held_reports_.fetch_add(1) >= max_queue_) {
      held_reports_.fetch_sub(1);
      dropped_reports_.fetch_add(1);
      dropped_samples_.fetch_add(samples);
      return false;
    }
    if (held_samples_.fetch_add(samples) + samples > max_queue_) {
      held_samples_.fetch_sub(samples);
      held_reports_.fetch_sub(1);
      dropped_reports_.fetch_add(1);
      dropped_samples_.fetch_add(samples);
      return false;
    }
    return true;
  }

  // Returns a reservation: the report's samples are committed (or were refused).
  void release(int64_t reports, int64_t samples) {
    held_reports_.fetch_sub(reports);
    held_samples_.fetch_sub(samples);
  }

  void record_commit(int64_t rows, int64_t samples, int64_t duplicates, int64_t now_ms) {
    committed_rows_.fetch_add(rows);
    committed_samples_.fetch_add(samples);
    duplicates_.fetch_add(duplicates);
    commits_.fetch_add(1);
    last_commit_ms_.store(now_ms);
  }

  // Schedule slots in which a poller started no poll (actors/poller).
  void record_missed(int64_t slots) { missed_polls_.fetch_add(slots); }
  // A compaction: chunks written, polls moved out of the ingest log, of which late.
  void record_compaction(int64_t chunks, int64_t polls, int64_t late) {
    compactions_.fetch_add(1);
    compacted_chunks_.fetch_add(chunks);
    compacted_polls_.fetch_add(polls);
    late_polls_.fetch_add(late);
  }
  // The head (storage/head.hpp) after a commit or compaction: polls held in
  // memory until compacted, the bytes they take, and how often it went past
  // its limit and spilled its oldest polls to be read from the log instead.
  void record_head(int64_t polls, int64_t bytes, int64_t spills) {
    head_polls_.store(polls);
    head_bytes_.store(bytes);
    head_spills_.store(spills);
  }
  int64_t head_spills() const { return head_spills_.load(); }
  int64_t head_polls() const { return head_polls_.load(); }
  int64_t head_bytes() const { return head_bytes_.load(); }
  int64_t compactions() const { return compactions_.load(); }
  int64_t compacted_chunks() const { return compacted_chunks_.load(); }
  int64_t compacted_polls() const { return compacted_polls_.load(); }
  int64_t late_polls() const { return late_polls_.load(); }
  int64_t missed_polls() const { return missed_polls_.load(); }

  void set_writer_error(const std::string& text) {
    std::lock_guard<std::mutex> guard{mtx_};
    writer_error_ = text;
    writer_failing_ = !text.empty();
  }

  std::string writer_error() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return writer_error_;
  }

  bool writer_failing() const { return writer_failing_.load(); }
  int64_t max_queue() const { return max_queue_; }
  int64_t held_samples() const { return held_samples_.load(); }
  int64_t held_reports() const { return held_reports_.load(); }
  int64_t dropped_samples() const { return dropped_samples_.load(); }
  int64_t dropped_reports() const { return dropped_reports_.load(); }
  int64_t committed_rows() const { return committed_rows_.load(); }
  int64_t committed_samples() const { return committed_samples_.load(); }
  int64_t duplicates() const { return duplicates_.load(); }
  int64_t commits() const { return commits_.load(); }
  int64_t last_commit_ms() const { return last_commit_ms_.load(); }

private:
  const int64_t max_queue_;
  std::atomic<int64_t> held_samples_{0};
  std::atomic<int64_t> held_reports_{0};
  std::atomic<int64_t> dropped_samples_{0};
  std::atomic<int64_t> compactions_{0};
  std::atomic<int64_t> compacted_chunks_{0};
  std::atomic<int64_t> compacted_polls_{0};
  std::atomic<int64_t> late_polls_{0};
  std::atomic<int64_t> head_polls_{0};
  std::atomic<int64_t> head_bytes_{0};
  std::atomic<int64_t> head_spills_{0};
  std::atomic<int64_t> dropped_reports_{0};
  std::atomic<int64_t> committed_rows_{0};
  std::atomic<int64_t> committed_samples_{0};
  std::atomic<int64_t> duplicates_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> last_commit_ms_{0};
  std::atomic<int64_t> missed_polls_{0};
  std::atomic<bool> writer_failing_{false};
  mutable std::mutex mtx_;
  std::string writer_error_;
};

} // namespace edgemes::actors
