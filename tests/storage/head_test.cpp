// The head's memory is a figure (/health: writer.head_polls, head_bytes):
// it follows the polls held, block by block, and falls when a compaction
// moves polls into chunks.
#include "storage/head.hpp"
#include "tests/storage/fixture.hpp"

using namespace edgemes::storage;
using namespace edgemes::storage::test;

namespace {

// One block of `slots` values: its fixed part plus 64 entries of values.
int64_t block_of(size_t slots) {
  return static_cast<int64_t>(sizeof(head::block) + 64 * slots * sizeof(double));
}

} // namespace

TEST_CASE("the head counts its polls and the bytes of their blocks", "[storage][head]") {
  catalogued_file o;
  auto h = o.w->shared_head();
  CHECK(h->polls() == 0);
  CHECK(h->bytes() == 0);

  std::vector<poll_row> polls;
  for (int64_t ts = 0; ts < 300'000; ts += 1000)
    polls.push_back({o.printer, ts, {1, 2, 3}});
  o.w->commit(polls, {}, {});
  CHECK(h->polls() == 300);
  CHECK(h->bytes() == 5 * block_of(3));  // 300 polls: four full blocks and one of 44

  // Windows [0, 120) and [120, 240) s move to chunks; 60 polls stay: one block.
  REQUIRE(o.w->compaction_due());
  o.w->compact();
  CHECK(h->polls() == 60);
  CHECK(h->bytes() == block_of(3));

  o.w->compact(true);
  CHECK(h->polls() == 0);
  CHECK(h->bytes() == 0);
}
