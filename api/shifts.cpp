// api/shifts: every shift start of the days around the moment is turned into
// an instant with mktime (so DST is the C library's), the starts are sorted,
// and the moment falls between two consecutive ones. Two days either side are
// enough for any shift list: each day has at least one start, and a DST jump
// moves a start by at most a few hours.
#include "api/shifts.hpp"

#include <algorithm>
#include <ctime>

namespace edgemes::api {

namespace {

struct start {
  int64_t ms;
  const config::shift_config* shift;
};

// Floor division: the day of a negative epoch ms is the one before.
int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0);
}

} // namespace

shift_window shift_at(const std::vector<config::shift_config>& shifts, int64_t at_ms) {
  if (shifts.empty())
    return {"", at_ms, at_ms + 1};
  std::time_t at = static_cast<std::time_t>(floor_div(at_ms, 1000));
  std::tm local{};
  localtime_r(&at, &local);

  std::vector<start> starts;
  for (int day = -2; day <= 2; ++day)
    for (const auto& s : shifts) {
      std::tm t{};
      t.tm_year = local.tm_year;
      t.tm_mon = local.tm_mon;
      t.tm_mday = local.tm_mday + day;  // mktime normalises across months and years
      t.tm_hour = s.start_minute / 60;
      t.tm_min = s.start_minute % 60;
      t.tm_isdst = -1;                  // let the zone decide, per date
      std::time_t secs = std::mktime(&t);
      if (secs != static_cast<std::time_t>(-1))
        starts.push_back({static_cast<int64_t>(secs) * 1000, &s});
    }
  // Ties (a start moved onto another by a DST jump): the later time of day wins.
  std::stable_sort(starts.begin(), starts.end(), [](const start& a, const start& b) {
    return a.ms != b.ms ? a.ms < b.ms : a.shift->start_minute < b.shift->start_minute;
  });
  std::vector<start> distinct;
  for (const auto& s : starts) {
    if (!distinct.empty() && distinct.back().ms == s.ms)
      distinct.back() = s;
    else
      distinct.push_back(s);
  }
  auto next = std::upper_bound(distinct.begin(), distinct.end(), at_ms,
                               [](int64_t ms, const start& s) { return ms < s.ms; });
  if (next == distinct.begin() || next == distinct.end())  // cannot happen with 2 days each side
    return {shifts.front().name, at_ms, at_ms + 1};
  const start& current = *(next - 1);
  return {current.shift->name, current.ms, next->ms};
}

} // namespace edgemes::api
