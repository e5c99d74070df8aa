// storage/log_batch: one commit's polls as one row of the ingest log (schema v4).
//
// The writer appends one ingest_log row per commit; its `data` is a batch:
//
//   batch := u8 'L' | u8 version(=2) | zvarint base | varint m | m × entry
//   entry := varint gap | zvarint (ts - prev_ts) | varint (len << 1 | form)
//            | len bytes of record
//
// one entry per machine, ascending machine_id: gap = machine_id - previous
// machine_id - 1 (the first entry: machine_id itself). Each entry has a time
// `ts`, written as the difference to the previous entry's (the first entry's:
// to base, the smallest ts in the batch). Its record is, by form:
//   0 — a poll record (storage/chunk.hpp, encode_poll): the machine's one poll
//       of the commit, taken at ts. A commit every 500 ms of machines polled
//       every second is made of these: 1-4 bytes a value (a reading of up to
//       4 significant digits: 2-3) and about 3 bytes a machine besides.
//   1 — a chunk (storage/chunk.hpp) encoded with base = ts, the time of its
//       first poll: the machine's polls of the commit, ts ascending.
// docs/STORAGE-FORMAT.md has it byte by byte.
#pragma once

#include "storage/chunk.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgemes::storage::log_batch {

// One poll to encode: values by slot, NaN = no value.
struct poll {
  int64_t machine_id = 0;
  int64_t ts = 0;
  const std::vector<double>* values = nullptr;
  // Null, or chunk::encode_poll(*values) done beforehand (poll_row::record):
  // copied instead of encoded when this is the machine's only poll.
  const std::string* record = nullptr;
};

// Appends the batch of `polls` to `out`. The polls may come in any order;
// REQUIRES: no two share (machine_id, ts). Polls of one machine with fewer
// values than others are padded with NaN.
void encode(std::vector<poll> polls, std::string& out);

// A parsed batch: the directory is read by parse(), records on demand. Refers
// to the bytes it was parsed from, which must outlive it.
class view {
public:
  struct entry {
    int64_t machine_id;
    int64_t ts;     // a poll record's poll time; a chunk's base (its first poll's time)
    size_t offset;  // of its record within the batch
    size_t size;
    bool chunk;     // form 1: the record is a chunk, else a poll record
  };

  // Reads the header and the directory. False when malformed.
  bool parse(const void* data, size_t size);
  const std::vector<entry>& entries() const { return entries_; }
  int64_t base() const { return base_; }

  // The polls of one machine, parsed into `out`; false when the batch has no
  // polls of it or its record is malformed.
  bool machine(int64_t machine_id, chunk::view& out) const;

  // The polls of entries()[index], parsed into `out`; false when index is out
  // of range or the record is malformed.
  bool entry_polls(size_t index, chunk::view& out) const;

private:
  bool parse_directory(size_t size);
  const unsigned char* data_ = nullptr;
  int64_t base_ = 0;
  std::vector<entry> entries_;
};

} // namespace edgemes::storage::log_batch
