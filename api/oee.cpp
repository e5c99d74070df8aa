// api/oee: see oee.hpp. The inputs of each machine are its state changes in
// the range and the increase of its oee counters (reader::count_increases).
// A line's or the floor's machines are read in groups (evaluator::prefetch ->
// reader::read_machines): one read transaction per group of
// kMachinesPerTransaction machines (the group's head snapshots loaded before
// it), and every machine's metrics in one statement — so a reply for 1 000
// machines costs a few dozen transactions, not three per machine, and still
// never holds one transaction for its whole duration (a transaction pins its
// WAL snapshot: the writer's checkpoints wait for it). A single machine (its
// endpoint, its series, a line's output counter) reads on its own, in short
// transactions of its own.
#include "api/oee.hpp"

#include "api/endpoints.hpp"
#include "api/errors.hpp"
#include "api/json_out.hpp"

#include <algorithm>
#include <unordered_map>

namespace edgemes::api::oee {

namespace {

constexpr const char* no_state = "no_state";

// Machines read in one read transaction by evaluator::prefetch: ~1-2 ms of
// reads each group on a 1 000-machine floor, so the writer never waits long.
constexpr size_t kMachinesPerTransaction = 50;

// From this many machines on, prefetch reads every machine's metrics in one
// statement instead of one statement per machine.
constexpr size_t kAllMetricsFrom = 32;

} // namespace

result compute(const inputs& in) {
  result r;
  auto ms = [&](const char* cls) {
    auto it = in.class_ms.find(cls);
    return it == in.class_ms.end() ? int64_t{0} : it->second;
  };
  // Time before the machine's first state was not watched: neither planned
  // nor lost (docs/MES.md, "no_state").
  r.planned_ms = in.total_ms - ms("NST") - ms("SDT") - ms(no_state);
  const int64_t prd = ms("PRD");
  auto why = [&](const char* factor, const std::string& fallback) {
    auto it = in.missing.find(factor);
    r.null_reasons[factor] = it != in.missing.end() ? it->second : fallback;
  };

  if (r.planned_ms > 0)
    r.availability = static_cast<double>(prd) / static_cast<double>(r.planned_ms);
  else if (in.missing.count("availability"))
    why("availability", "");
  else if (ms(no_state) > 0 && ms(no_state) >= in.total_ms)
    r.null_reasons["availability"] = "no state known in the range (edgemes was not watching the machine yet)";
  else
    r.null_reasons["availability"] = "no planned production time in the range";

  if (in.ideal_cycle_s <= 0)
    why("performance", "oee.ideal_cycle_s is not configured");
  else if (!in.total)
    why("performance", "oee.total is not configured");
  else if (prd <= 0)
    r.null_reasons["performance"] = "no productive (PRD) time in the range";
  else {
    r.performance_raw = in.ideal_cycle_s * in.total->counted.increase / (static_cast<double>(prd) / 1000.0);
    r.performance_capped = *r.performance_raw > 1.0;
    r.performance = std::min(*r.performance_raw, 1.0);
  }

  if (!in.total) {
    why("quality", "oee.total is not configured");
  } else if (!in.good && !in.reject) {
    why("quality", "neither oee.good nor oee.reject is configured");
  } else if (in.total->counted.increase <= 0) {
    r.null_reasons["quality"] = "no units counted (the total counter did not rise)";
  } else {
    r.good_count = in.good ? in.good->counted.increase
                           : in.total->counted.increase - in.reject->counted.increase;
    r.quality = *r.good_count / in.total->counted.increase;
  }

  if (r.availability && r.performance && r.quality)
    r.oee = *r.availability * *r.performance * *r.quality;
  else
    r.null_reasons["oee"] = "a factor is null";
  return r;
}

std::vector<shift_window> buckets(const config::config& plant, time_range range, step s) {
  std::vector<shift_window> out;
  constexpr int64_t hour = 3600 * 1000;
  for (int64_t t = range.from_ms; t < range.to_ms;) {
    shift_window b;
    if (s == step::hour) {
      b.to_ms = (t / hour + 1) * hour;  // from >= 0 (parse_range)
    } else {
      b = shift_at(plant.shifts, t);
    }
    b.from_ms = t;
    b.to_ms = std::min(b.to_ms, range.to_ms);
    out.push_back(b);
    t = b.to_ms;
  }
  return out;
}

namespace {

json_out& number_or_null(json_out& w, const std::optional<double>& v) {
  return v ? w.value(*v) : w.null();
}

void counter_json(json_out& w, const std::optional<counter_input>& c) {
  if (!c) {
    w.null();
    return;
  }
  const auto& k = c->counted;
  w.begin_object();
  w.key("metric").value(c->metric);
  w.key("count").value(k.increase);
  w.key("resets").value(k.resets);
  w.key("values").value(k.values);
  w.key("first_ts").ms_or_null(k.first_ts);
  w.key("last_ts").ms_or_null(k.last_ts);
  w.end_object();
}

// The factors, their reasons and every input, as members of an open object.
void result_json(json_out& w, const inputs& in, const result& r) {
  number_or_null(w.key("oee"), r.oee);
  number_or_null(w.key("availability"), r.availability);
  number_or_null(w.key("performance"), r.performance);
  number_or_null(w.key("quality"), r.quality);
  number_or_null(w.key("performance_raw"), r.performance_raw);
  w.key("performance_capped").value(r.performance_capped);
  w.key("null_reasons").begin_object();
  for (const auto& [factor, why] : r.null_reasons)
    w.key(factor).value(why);
  w.end_object();
  w.key("inputs").begin_object();
  w.key("total_ms").value(in.total_ms);
  w.key("planned_ms").value(r.planned_ms);
  w.key("time_ms").begin_object();
  for (const auto& cls : config::e10_classes())
    w.key(cls).value(in.class_ms.count(cls) ? in.class_ms.at(cls) : 0);
  for (const char* cls : {config::e10_offline, config::e10_unmapped, no_state})
    w.key(cls).value(in.class_ms.count(cls) ? in.class_ms.at(cls) : 0);
  w.end_object();
  w.key("unmapped_states").begin_object();
  for (const auto& [text, ms] : in.unmapped)
    w.key(text).value(ms);
  w.end_object();
  w.key("ideal_cycle_s");
  in.ideal_cycle_s > 0 ? w.value(in.ideal_cycle_s) : w.null();
  counter_json(w.key("total"), in.total);
  counter_json(w.key("good"), in.good);
  counter_json(w.key("reject"), in.reject);
  number_or_null(w.key("good_count"), r.good_count);
  w.end_object();
}

// One machine's inputs and result.
struct machine_eval {
  inputs in;
  result out;
};

// Reads the inputs of configured machines; caches their rows and slots
// across the buckets of a series, and the reads prefetch() made for a range.
class evaluator {
public:
  evaluator(storage::reader& db, const config::config& plant,
            const std::optional<std::string>& line)
      : db_(db), plant_(plant) {
    for (auto& m : db.machines(line))
      rows_.emplace(m.ident, std::move(m));
  }

  const storage::machine_info* row(const std::string& ident) const {
    auto it = rows_.find(ident);
    return it == rows_.end() ? nullptr : &it->second;
  }

  // Reads what machine() needs of each of `machines` over `range`, in groups
  // of kMachinesPerTransaction per read transaction; machine() then takes it
  // from here instead of reading (the same reads: reader::read_machines).
  void prefetch(const std::vector<const config::machine_config*>& machines, time_range range,
                int64_t now) {
    prefetched_.clear();
    if (machines.size() >= kAllMetricsFrom && !all_metrics_) {
      for (auto& [id, ms] : db_.all_metrics())
        metrics_[id] = std::move(ms);
      all_metrics_ = true;
    }
    std::vector<storage::machine_request> requests;
    std::vector<const config::machine_config*> read;
    for (const config::machine_config* mc : machines) {
      const storage::machine_info* info = row(mc->id);
      if (!info)
        continue;  // machine() reads nothing for it
      requests.push_back({info->id, slots(info, counter_names(*mc))});
      read.push_back(mc);
    }
    auto got = db_.read_machines(requests, range.from_ms, range.to_ms, now,
                                 storage::kCounterLookbackMs, kMachinesPerTransaction);
    for (size_t i = 0; i < read.size(); ++i)
      prefetched_[read[i]->id] = {range, now, std::move(got[i])};
  }

  machine_eval machine(const config::machine_config& mc, time_range range, int64_t now) {
    machine_eval e;
    inputs& in = e.in;
    const int64_t end = std::min(range.to_ms, now);
    in.total_ms = std::max<int64_t>(0, end - range.from_ms);
    in.ideal_cycle_s = mc.oee.ideal_cycle_s;
    const storage::machine_info* info = row(mc.id);
    const storage::machine_reads* pre = prefetched(mc.id, range, now);
    int64_t seen = 0;
    if (info && in.total_ms > 0) {
      const auto shares =
          pre ? pre->states.shares : db_.states(info->id, range.from_ms, range.to_ms, now).shares;
      for (const auto& s : shares) {
        const std::string cls = config::e10_class(plant_, mc, s.state);
        in.class_ms[cls] += s.ms;
        if (cls == config::e10_unmapped)
          in.unmapped[s.state] += s.ms;
        seen += s.ms;
      }
    }
    in.class_ms[no_state] += in.total_ms - seen;
    wanted w;
    for (auto [name, target] : {std::pair{&mc.oee.total, &in.total},
                                std::pair{&mc.oee.good, &in.good},
                                std::pair{&mc.oee.reject, &in.reject}})
      if (!name->empty())
        w.emplace_back(*name, target);
    read(info, range, w, in, pre);
    e.out = compute(in);
    return e;
  }

  // The increase of one metric of a machine (the line's output counter).
  std::optional<counter_input> counter(const config::machine_config& mc, const std::string& metric,
                                       time_range range, std::string& missing) {
    inputs in;
    read(row(mc.id), range, {{metric, &in.total}}, in, nullptr);
    if (!in.total)
      missing = in.missing.count("total") ? in.missing.at("total") : "";
    return in.total;
  }

private:
  using wanted = std::vector<std::pair<std::string, std::optional<counter_input>*>>;

  // The oee counters machine() reads, in its order.
  static std::vector<std::string> counter_names(const config::machine_config& mc) {
    std::vector<std::string> out;
    for (const std::string* name : {&mc.oee.total, &mc.oee.good, &mc.oee.reject})
      if (!name->empty())
        out.push_back(*name);
    return out;
  }

  // The slot of each name in the file (-1: the machine has no such metric).
  std::vector<int> slots(const storage::machine_info* info, const std::vector<std::string>& names) {
    std::vector<int> out;
    const std::vector<storage::metric_info>* metrics = info ? &metrics_of(info->id) : nullptr;
    for (const auto& name : names) {
      int slot = -1;
      if (metrics)
        for (const auto& m : *metrics)
          if (m.name == name)
            slot = m.slot;
      out.push_back(slot);
    }
    return out;
  }

  // Fills each wanted counter that the file has; names the others in
  // in.missing (under "total", "good" or "reject" by position). `pre`: the
  // counts prefetch() read for these counters, or null to read them.
  void read(const storage::machine_info* info, time_range range, const wanted& w, inputs& in,
            const storage::machine_reads* pre) {
    if (w.empty())
      return;
    std::vector<std::string> names;
    for (const auto& [name, target] : w)
      names.push_back(name);
    const std::vector<int> slots = this->slots(info, names);
    std::vector<storage::counter_increase> got;
    if (pre)
      got = pre->counted;
    else if (info)
      got = db_.count_increases(info->id, slots, range.from_ms, range.to_ms);
    for (size_t i = 0; i < w.size(); ++i) {
      if (slots[i] < 0) {
        const char* role = w[i].second == &in.total ? "total"
                           : w[i].second == &in.good ? "good"
                                                      : "reject";
        const std::string why = "metric '" + w[i].first + "' has no data in the file";
        in.missing[role] = why;
        if (std::string(role) == "total")
          in.missing["performance"] = in.missing["quality"] = why;
        else
          in.missing["quality"] = why;
        continue;
      }
      *w[i].second = counter_input{w[i].first, got[i]};
    }
  }

  const std::vector<storage::metric_info>& metrics_of(int64_t id) {
    auto it = metrics_.find(id);
    if (it == metrics_.end())
      it = metrics_.emplace(id, all_metrics_ ? std::vector<storage::metric_info>{}
                                             : db_.metrics(id)).first;
    return it->second;
  }

  struct prefetched_reads {
    time_range range;
    int64_t now = 0;
    storage::machine_reads reads;
  };

  const storage::machine_reads* prefetched(const std::string& ident, time_range range,
                                           int64_t now) const {
    auto it = prefetched_.find(ident);
    if (it == prefetched_.end() || it->second.range.from_ms != range.from_ms ||
        it->second.range.to_ms != range.to_ms || it->second.now != now)
      return nullptr;
    return &it->second.reads;
  }

  storage::reader& db_;
  const config::config& plant_;
  std::unordered_map<std::string, storage::machine_info> rows_;
  std::unordered_map<int64_t, std::vector<storage::metric_info>> metrics_;
  bool all_metrics_ = false;  // metrics_ holds every machine's (none: no metric)
  std::unordered_map<std::string, prefetched_reads> prefetched_;
};

// A machine's reply members (the caller opens and closes the object).
void machine_fields(json_out& w, const std::string& ident, const std::string& line,
                    time_range range, const machine_eval& e) {
  w.key("machine").value(ident);
  w.key("line").value(line);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  result_json(w, e.in, e.out);
}

// The line's basis (docs/API.md, "Line OEE"): time from the bottleneck (the
// machine with the highest ideal cycle), else the output machine; units from
// the output counter; quality from the output machine's good or reject
// counter when the output counter is its oee.total.
struct line_eval {
  const config::machine_config* bottleneck = nullptr;
  const config::machine_config* time_from = nullptr;
  inputs in;
  result out;
  std::vector<std::pair<const config::machine_config*, machine_eval>> machines;
};

line_eval evaluate_line(evaluator& ev, const config::line_config& l, time_range range,
                        int64_t now) {
  line_eval e;
  const config::machine_config* output = nullptr;
  std::vector<const config::machine_config*> all;
  for (const auto& m : l.machines)
    all.push_back(&m);
  ev.prefetch(all, range, now);
  for (const auto& m : l.machines) {
    e.machines.emplace_back(&m, ev.machine(m, range, now));
    if (m.oee.ideal_cycle_s > 0 &&
        (!e.bottleneck || m.oee.ideal_cycle_s > e.bottleneck->oee.ideal_cycle_s))
      e.bottleneck = &m;
    if (m.id == l.output.machine)
      output = &m;
  }
  e.time_from = e.bottleneck ? e.bottleneck : output;
  const machine_eval* from_eval = nullptr;
  const machine_eval* output_eval = nullptr;
  for (const auto& [m, me] : e.machines) {
    if (m == e.time_from)
      from_eval = &me;
    if (m == output)
      output_eval = &me;
  }
  inputs& in = e.in;
  in.total_ms = std::max<int64_t>(0, std::min(range.to_ms, now) - range.from_ms);
  if (from_eval) {
    in.class_ms = from_eval->in.class_ms;
    in.unmapped = from_eval->in.unmapped;
  } else {
    in.class_ms[no_state] = in.total_ms;
    in.missing["availability"] =
        "no machine of the line gives its time: none has oee.ideal_cycle_s and the line has no "
        "output counter";
  }
  if (e.bottleneck)
    in.ideal_cycle_s = e.bottleneck->oee.ideal_cycle_s;
  if (!output) {
    in.missing["performance"] = in.missing["quality"] = "the line has no output counter";
  } else if (output->oee.total == l.output.metric) {
    in.total = output_eval->in.total;
    in.good = output_eval->in.good;
    in.reject = output_eval->in.reject;
    in.missing = output_eval->in.missing;
  } else {
    std::string missing;
    in.total = ev.counter(*output, l.output.metric, range, missing);
    if (!in.total)
      in.missing["performance"] = in.missing["quality"] = missing;
    else
      in.missing["quality"] = "the output counter '" + l.output.machine + "/" + l.output.metric +
                              "' is not its machine's oee.total, so no good or reject counter "
                              "pairs with it";
  }
  e.out = compute(in);
  return e;
}

// The line's `basis` member (docs/API.md): the output counter (the line
// reply only; `l` null leaves it out, as a series point does), the
// bottleneck and the machine the time comes from.
void basis_json(json_out& w, const config::line_config* l, const line_eval& e) {
  w.key("basis").begin_object();
  if (l) {
    w.key("output");
    if (l->output.machine.empty())
      w.null();
    else
      w.begin_object().key("machine").value(l->output.machine).key("metric")
          .value(l->output.metric).end_object();
  }
  w.key("bottleneck");
  e.bottleneck ? w.value(e.bottleneck->id) : w.null();
  w.key("time_from");
  e.time_from ? w.value(e.time_from->id) : w.null();
  w.end_object();
}

void line_fields(json_out& w, const config::line_config& l, time_range range, const line_eval& e,
                 bool with_machines) {
  w.key("line").value(l.id);
  w.key("name").value(l.name);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  basis_json(w, &l, e);
  result_json(w, e.in, e.out);
  if (!with_machines)
    return;
  w.key("machines").begin_array();
  for (const auto& [m, me] : e.machines) {
    w.begin_object();
    machine_fields(w, m->id, l.id, range, me);
    w.end_object();
  }
  w.end_array();
}

const config::line_config* line_of(const config::config& plant, const std::string& ident) {
  for (const auto& l : plant.lines)
    for (const auto& m : l.machines)
      if (m.id == ident)
        return &l;
  return nullptr;
}

query_reply no_machine(const std::string& ident) {
  return error_reply(404, "unknown_machine", "no configured machine '" + ident + "'");
}

query_reply no_line(const std::string& line) {
  return error_reply(404, "unknown_line", "no line '" + line + "'");
}

const char* step_name(step s) { return s == step::hour ? "hour" : "shift"; }

void point_head(json_out& w, const shift_window& b, step s) {
  w.key("from").value(b.from_ms);
  w.key("to").value(b.to_ms);
  if (s == step::shift)
    w.key("shift").value(b.name);
}

// A configured machine's reply: 404 when `ident` is none, else one object
// whose members `body(config, line id, evaluator, writer)` writes.
template <class Body>
query_reply with_machine(storage::reader& db, const config::config& plant,
                         const std::string& ident, Body&& body) {
  const config::machine_config* mc = endpoints::find_machine(plant, ident);
  if (!mc)
    return no_machine(ident);
  const std::string& line = line_of(plant, ident)->id;
  evaluator ev(db, plant, line);
  json_out w;
  w.begin_object();
  body(*mc, line, ev, w);
  w.end_object();
  return {200, w.take()};
}

} // namespace

query_reply machine(storage::reader& db, const config::config& plant, const std::string& ident,
                    time_range range, int64_t now_ms) {
  return with_machine(db, plant, ident, [&](const config::machine_config& mc,
                                            const std::string& line, evaluator& ev, json_out& w) {
    machine_fields(w, ident, line, range, ev.machine(mc, range, now_ms));
  });
}

query_reply line(storage::reader& db, const config::config& plant, const std::string& line,
                 time_range range, int64_t now_ms) {
  const config::line_config* l = endpoints::find_line(plant, line);
  if (!l)
    return no_line(line);
  evaluator ev(db, plant, line);
  json_out w;
  w.begin_object();
  line_fields(w, *l, range, evaluate_line(ev, *l, range, now_ms), true);
  w.end_object();
  return {200, w.take()};
}

query_reply floor(storage::reader& db, const config::config& plant,
                  const std::optional<std::string>& line, time_range range, int64_t now_ms) {
  if (line && !endpoints::find_line(plant, *line))
    return no_line(*line);
  evaluator ev(db, plant, line);
  json_out w;
  w.begin_object();
  w.key("line");
  line ? w.value(*line) : w.null();
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  std::vector<const config::machine_config*> all;
  std::vector<const std::string*> line_ids;  // all[i]'s line
  for (const auto& l : plant.lines)
    if (!line || l.id == *line)
      for (const auto& m : l.machines) {
        all.push_back(&m);
        line_ids.push_back(&l.id);
      }
  ev.prefetch(all, range, now_ms);
  w.key("machines").begin_array();
  for (size_t i = 0; i < all.size(); ++i) {
    w.begin_object();
    machine_fields(w, all[i]->id, *line_ids[i], range, ev.machine(*all[i], range, now_ms));
    w.end_object();
  }
  w.end_array().end_object();
  return {200, w.take()};
}

query_reply machine_series(storage::reader& db, const config::config& plant,
                           const std::string& ident, time_range range, step s, int64_t now_ms) {
  return with_machine(db, plant, ident, [&](const config::machine_config& mc,
                                            const std::string& line, evaluator& ev, json_out& w) {
    w.key("machine").value(ident);
    w.key("line").value(line);
    w.key("from").value(range.from_ms);
    w.key("to").value(range.to_ms);
    w.key("step").value(step_name(s));
    w.key("points").begin_array();
    for (const auto& b : buckets(plant, range, s)) {
      const machine_eval e = ev.machine(mc, {b.from_ms, b.to_ms}, now_ms);
      w.begin_object();
      point_head(w, b, s);
      result_json(w, e.in, e.out);
      w.end_object();
    }
    w.end_array();
  });
}

query_reply line_series(storage::reader& db, const config::config& plant, const std::string& line,
                        time_range range, step s, int64_t now_ms) {
  const config::line_config* l = endpoints::find_line(plant, line);
  if (!l)
    return no_line(line);
  evaluator ev(db, plant, line);
  json_out w;
  w.begin_object();
  w.key("line").value(l->id);
  w.key("from").value(range.from_ms);
  w.key("to").value(range.to_ms);
  w.key("step").value(step_name(s));
  w.key("points").begin_array();
  for (const auto& b : buckets(plant, range, s)) {
    const line_eval e = evaluate_line(ev, *l, {b.from_ms, b.to_ms}, now_ms);
    w.begin_object();
    point_head(w, b, s);
    basis_json(w, nullptr, e);
    result_json(w, e.in, e.out);
    w.end_object();
  }
  w.end_array().end_object();
  return {200, w.take()};
}

} // namespace edgemes::api::oee
