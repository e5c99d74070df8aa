// The parser runs in three steps over the bytes, each in one place below:
//   1. file checks (size, UTF-16, NUL bytes, the UTF-8 byte-order mark,
//      `sep=`) and the separator's detection from the header row;
//   2. the RFC 4180 scanner, which yields one record at a time with the
//      physical line where it starts (records are never all held at once);
//   3. the header's columns, then each record checked into an item.
// Every problem goes through `sink`, which keeps the first max_problems and
// counts the rest; the scan goes on to the end of the file so the count is
// exact. Only the unterminated quote stops it: the rest of the file is then
// inside that one field.
#include "mes/bom_csv.hpp"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace edgemes::mes::bom_csv {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = ascii_lower(c);
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = ascii_upper(c);
  return out;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string hex_byte(unsigned char b) {
  const char* digits = "0123456789ABCDEF";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// Text from the file as a message holds it: at most 40 bytes (cut on a UTF-8
// boundary), so a problem's size does not depend on the input's.
std::string clipped(std::string_view s) {
  if (s.size() <= 40)
    return std::string(s);
  std::size_t n = 37;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;
  return std::string(s.substr(0, n)) + "...";
}

std::string shown(std::string_view s) { return "'" + clipped(s) + "'"; }

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) n = 1;
    else if (b == 0xE0) { n = 2; lo = 0xA0; }
    else if (b == 0xED) { n = 2; hi = 0x9F; }
    else if (b >= 0xE1 && b <= 0xEF) n = 2;
    else if (b == 0xF0) { n = 3; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) n = 3;
    else if (b == 0xF4) { n = 3; hi = 0x8F; }
    else return i;
    if (i + n >= s.size())
      return i;
    for (std::size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF))
        return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

// Keeps the first `limit` problems and counts the others.
class sink {
public:
  sink(result& r, std::size_t limit) : r_(r), limit_(limit) {}
  void add(std::size_t line, std::size_t column, std::string column_name, std::string message) {
    column_name = clipped(column_name);
    if (r_.problems.size() < limit_)
      r_.problems.push_back({line, column, std::move(column_name), std::move(message)});
    else
      ++r_.problems_omitted;
  }
  bool any() const { return !r_.problems.empty() || r_.problems_omitted > 0; }
private:
  result& r_;
  std::size_t limit_;
};

// ---- 2. the RFC 4180 scanner -------------------------------------------------

struct field {
  std::string text;
  bool text_after_quote = false;  // `"R1"R2`: kept as "R1R2", reported by the importer
};

struct record {
  std::size_t line = 0;            // where the record starts
  std::vector<field> fields;       // the first options::max_columns fields
  std::size_t count = 0;           // fields in the record, kept or not
  bool dropped_text = false;       // a field past max_columns held more than spaces
  std::size_t unterminated = 0;    // line where a quote opened and never closed; 0 = none
  bool blank() const {
    return !dropped_text && std::all_of(fields.begin(), fields.end(),
                                        [](const field& f) { return trim(f.text).empty(); });
  }
};

// Reads records from `in` one at a time. A line end is LF, CRLF or a lone CR;
// inside quotes it belongs to the field and still counts as a line. The
// scanner reports nothing itself: it marks the record (an unterminated quote,
// text after a closing quote) and the importer, which knows the header,
// reports it with the column's name.
class scanner {
public:
  scanner(std::string_view in, std::size_t pos, std::size_t line, char sep, std::size_t max_fields)
    : in_(in), pos_(pos), line_(line), sep_(sep), max_fields_(max_fields) {}

  // False at the end of the input. A record with `unterminated` set is the last.
  // Fields past max_fields are read and dropped, so a line of a million
  // separators costs no more memory than max_fields empty fields.
  bool next(record& rec) {
    rec.fields.clear();
    rec.count = 0;
    rec.dropped_text = false;
    rec.unterminated = 0;
    if (pos_ >= in_.size())
      return false;
    rec.line = line_;
    for (;;) {
      field f;
      bool end_of_record = read_field(f, rec);
      ++rec.count;
      if (rec.fields.size() < max_fields_)
        rec.fields.push_back(std::move(f));
      else if (!trim(f.text).empty())
        rec.dropped_text = true;
      if (end_of_record)
        return true;
    }
  }

private:
  // Consumes a line end at pos_ if there is one.
  bool line_end() {
    if (pos_ >= in_.size())
      return false;
    if (in_[pos_] == '\n') {
      ++pos_;
      ++line_;
      return true;
    }
    if (in_[pos_] == '\r') {
      ++pos_;
      if (pos_ < in_.size() && in_[pos_] == '\n')
        ++pos_;
      ++line_;
      return true;
    }
    return false;
  }

  // Reads one field; true when it ended the record (line end or end of input).
  bool read_field(field& f, record& rec) {
    // Leading spaces before a quote are allowed (`a, "b,c"`), then the field is quoted.
    std::size_t look = pos_;
    while (look < in_.size() && (in_[look] == ' ' || in_[look] == '\t'))
      ++look;
    if (look < in_.size() && in_[look] == '"') {
      pos_ = look + 1;
      std::size_t open_line = line_;
      for (;;) {
        if (pos_ >= in_.size()) {
          rec.unterminated = open_line;
          return true;
        }
        char c = in_[pos_];
        if (c == '"') {
          if (pos_ + 1 < in_.size() && in_[pos_ + 1] == '"') {
            f.text += '"';
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        if (c == '\r' || c == '\n') {
          std::size_t from = pos_;
          line_end();
          f.text.append(in_.substr(from, pos_ - from));
          continue;
        }
        f.text += c;
        ++pos_;
      }
      // After the closing quote: spaces, then the separator or a line end.
      while (pos_ < in_.size() && in_[pos_] != sep_ && in_[pos_] != '\r' && in_[pos_] != '\n') {
        if (in_[pos_] != ' ' && in_[pos_] != '\t') {
          f.text_after_quote = true;
          f.text += in_[pos_];
        }
        ++pos_;
      }
    } else {
      std::size_t from = pos_;
      while (pos_ < in_.size() && in_[pos_] != sep_ && in_[pos_] != '\r' && in_[pos_] != '\n')
        ++pos_;
      f.text.assign(in_.substr(from, pos_ - from));
    }
    if (pos_ >= in_.size())
      return true;
    if (in_[pos_] == sep_) {
      ++pos_;
      return false;
    }
    line_end();
    return true;
  }

  std::string_view in_;
  std::size_t pos_;
  std::size_t line_;
  char sep_;
  std::size_t max_fields_;
};

// ---- 1. file checks and the separator -----------------------------------------

// The separator of the first non-blank record: ';' when it holds more ';'
// than ',' outside quotes, else ','.
char detect_separator(std::string_view in, std::size_t pos) {
  std::size_t semis = 0, commas = 0;
  bool quoted = false, content = false;
  for (; pos < in.size(); ++pos) {
    char c = in[pos];
    if (c == '"') {
      quoted = !quoted;
      content = true;
    } else if (quoted) {
      continue;
    } else if (c == '\n' || c == '\r') {
      if (content)
        break;
    } else if (c == ';') {
      ++semis;
    } else if (c == ',') {
      ++commas;
    } else if (!is_space(c)) {
      content = true;
    }
  }
  return semis > commas ? ';' : ',';
}

// ---- 3. columns, designators, items ---------------------------------------------

enum role { designators_role, part_number_role, quantity_role, description_role, side_role, roles };

const char* role_name(int r) {
  static const char* names[roles] = {"designators", "part number", "quantity", "description", "side"};
  return names[r];
}

const std::vector<std::string>& role_names(const column_names& c, int r) {
  switch (r) {
    case designators_role: return c.designators;
    case part_number_role: return c.part_number;
    case quantity_role: return c.quantity;
    case description_role: return c.description;
    default: return c.side;
  }
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct column {
  std::size_t index = 0;  // 1-based; 0 = the file has no such column
  std::string name;       // the header cell as written (trimmed)
};

bool designator_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '$' || c == '/' ||
         c == '+' || c == '#';
}

constexpr std::size_t max_designator_length = 64;

// Why `d` is not a designator, or "" when it is one.
std::string designator_error(std::string_view d) {
  if (d.size() > max_designator_length)
    return "designator " + shown(d) + " is longer than " + std::to_string(max_designator_length) +
           " characters";
  if (!is_alpha(d[0]) || !std::all_of(d.begin(), d.end(), designator_char))
    return "designator " + shown(d) +
           " is not valid: a designator is a letter, then letters, digits or _ . $ / + #";
  return "";
}

// Splits "R12" into "R" and 12; false when it does not end in 1 to 9 digits.
bool split_number(std::string_view d, std::string_view& prefix, std::string_view& digits) {
  std::size_t i = d.size();
  while (i > 0 && is_digit(d[i - 1]))
    --i;
  if (i == d.size() || d.size() - i > 9)
    return false;
  prefix = d.substr(0, i);
  digits = d.substr(i);
  return true;
}

long to_number(std::string_view digits) {
  long n = 0;
  for (char c : digits)
    n = n * 10 + (c - '0');
  return n;
}

// Designators of one cell, expanded; problems reported through `report`.
// At most budget + 1 designators are produced (one more than the budget tells
// the caller the file's limit is passed), so a cell of many wide ranges
// cannot expand past options::max_designators.
template <class Report>
std::vector<std::string> expand_designators(std::string_view cell, const options& opts,
                                            std::size_t budget, Report&& report) {
  // Tokens: words, '-' and hard separators (',' ';'); whitespace only separates.
  struct token {
    enum kind { word, dash, hard } k;
    std::string_view text;
  };
  std::vector<token> tokens;
  std::size_t i = 0;
  while (i < cell.size()) {
    char c = cell[i];
    if (is_space(c)) {
      ++i;
    } else if (c == ',' || c == ';') {
      tokens.push_back({token::hard, cell.substr(i, 1)});
      ++i;
    } else if (c == '-') {
      tokens.push_back({token::dash, cell.substr(i, 1)});
      ++i;
    } else {
      std::size_t from = i;
      while (i < cell.size() && !is_space(cell[i]) && cell[i] != ',' && cell[i] != ';' &&
             cell[i] != '-')
        ++i;
      tokens.push_back({token::word, cell.substr(from, i - from)});
    }
  }

  std::vector<std::string> out;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    const auto& tok = tokens[t];
    if (out.size() > budget)
      break;
    if (tok.k == token::hard)
      continue;
    if (tok.k == token::dash) {
      report("range without a start: '-' must follow a designator (as in R1-R4)");
      // Skip what the dash would have joined.
      if (t + 1 < tokens.size() && tokens[t + 1].k == token::word)
        ++t;
      continue;
    }
    bool range = t + 1 < tokens.size() && tokens[t + 1].k == token::dash;
    if (!range) {
      auto why = designator_error(tok.text);
      if (!why.empty())
        report(why);
      else
        out.emplace_back(tok.text);
      continue;
    }
    if (t + 2 >= tokens.size() || tokens[t + 2].k != token::word) {
      report("range " + shown(std::string(tok.text) + "-") +
             " has no end (write it as R1-R4 or R1-4)");
      ++t;
      continue;
    }
    std::string_view a = tok.text, b = tokens[t + 2].text;
    std::string text = std::string(a) + "-" + std::string(b);
    t += 2;
    if (t + 1 < tokens.size() && tokens[t + 1].k == token::dash) {
      report("range " + shown(text + "-...") + " has more than one '-'");
      while (t + 1 < tokens.size() && tokens[t + 1].k != token::hard)
        ++t;
      continue;
    }
    auto why = designator_error(a);
    if (!why.empty()) {
      report(why);
      continue;
    }
    std::string_view pa, da, pb, db;
    if (!split_number(a, pa, da)) {
      report("range " + shown(text) + ": its start " + shown(a) +
             " does not end in a number (of at most 9 digits)");
      continue;
    }
    if (std::all_of(b.begin(), b.end(), is_digit)) {
      pb = pa;
      db = b;
      if (db.size() > 9) {
        report("range " + shown(text) + ": its end " + shown(b) + " has more than 9 digits");
        continue;
      }
    } else {
      why = designator_error(b);
      if (!why.empty()) {
        report(why);
        continue;
      }
      if (!split_number(b, pb, db)) {
        report("range " + shown(text) + ": its end " + shown(b) +
               " does not end in a number (of at most 9 digits)");
        continue;
      }
    }
    if (upper(pa) != upper(pb)) {
      report("range " + shown(text) + " mixes the prefixes '" + std::string(pa) + "' and '" +
             std::string(pb) + "'; a range has one prefix, as in R1-R4");
      continue;
    }
    long from = to_number(da), to = to_number(db);
    if (from > to) {
      report("range " + shown(text) + " is reversed (" + std::to_string(from) + " > " +
             std::to_string(to) + "); write it as " + std::string(pa) + std::to_string(to) + "-" +
             std::string(pa) + std::to_string(from));
      continue;
    }
    auto count = static_cast<std::size_t>(to - from) + 1;
    if (count > opts.max_range) {
      report("range " + shown(text) + " expands to " + std::to_string(count) +
             " designators, more than the limit of " + std::to_string(opts.max_range));
      continue;
    }
    // "R01-R10" keeps the start's width: R01 ... R10.
    std::size_t width = da.size() > 1 && da[0] == '0' ? da.size() : 0;
    for (long n = from; n <= to && out.size() <= budget; ++n) {
      std::string num = std::to_string(n);
      if (num.size() < width)
        num.insert(0, width - num.size(), '0');
      out.push_back(std::string(pa) + num);
    }
  }
  return out;
}

// The quantity of a cell, or the reason it is none.
std::optional<int64_t> parse_quantity(std::string_view cell, const options& opts,
                                      std::string& why) {
  if (cell.empty() || !std::all_of(cell.begin(), cell.end(), is_digit)) {
    why = "quantity " + shown(cell) + " is not a positive integer (plain digits, as in 4)";
    return std::nullopt;
  }
  std::string_view digits = cell;
  while (digits.size() > 1 && digits[0] == '0')
    digits.remove_prefix(1);
  int64_t q = 0;
  if (digits.size() > 18) {
    q = INT64_MAX;
  } else {
    for (char c : digits)
      q = q * 10 + (c - '0');
  }
  if (q == 0) {
    why = "quantity " + shown(cell) + " is not a positive integer (a row with quantity 0 is "
          "not part of the BOM; leave it out)";
    return std::nullopt;
  }
  if (q > opts.max_quantity) {
    why = "quantity " + shown(cell) + " is larger than the limit of " +
          std::to_string(opts.max_quantity);
    return std::nullopt;
  }
  return q;
}

std::optional<side> parse_side(std::string_view cell) {
  std::string s = lower(cell);
  if (s.empty())
    return side::unspecified;
  for (const char* t : {"t", "top", "toplayer", "top layer", "top side", "front", "f", "f.cu"})
    if (s == t)
      return side::top;
  for (const char* b : {"b", "bot", "bottom", "bottomlayer", "bottom layer", "bottom side", "back",
                        "b.cu"})
    if (s == b)
      return side::bottom;
  return std::nullopt;
}

std::string list_designators(const std::vector<std::string>& ds) {
  std::string out;
  for (std::size_t i = 0; i < ds.size() && i < 8; ++i)
    out += (i ? ", " : "") + ds[i];
  if (ds.size() > 8)
    out += ", ...";
  return out;
}

// Two columns sharing a header name make every file ambiguous: refused up front.
bool check_options(const options& opts, sink& problems) {
  bool ok = true;
  std::unordered_map<std::string, int> owner;
  for (int r = 0; r < roles; ++r)
    for (const auto& name : role_names(opts.columns, r)) {
      auto key = lower(trim(name));
      auto [at, fresh] = owner.emplace(key, r);
      if (!fresh && at->second != r) {
        problems.add(0, 0, "",
                     "options: the header name '" + name + "' is given for both the " +
                         role_name(at->second) + " and the " + role_name(r) + " column");
        ok = false;
      }
    }
  if (opts.separator == '"' || opts.separator == '\n' || opts.separator == '\r') {
    problems.add(0, 0, "", "options: the separator cannot be a quote or a line end");
    ok = false;
  }
  return ok;
}

// Everything after the options and file checks: header, then rows.
class importer {
public:
  importer(const options& opts, result& r, sink& problems)
    : opts_(opts), r_(r), problems_(problems) {}

  void run(scanner& scan) {
    record rec;
    bool have_header = false;
    bool unterminated = false;
    while (scan.next(rec)) {
      check_syntax(rec);
      if (rec.unterminated) {
        unterminated = true;  // the rest of the file is in one field: nothing to check
        break;
      }
      if (rec.blank())
        continue;
      if (!have_header) {
        header(rec);
        have_header = true;
        continue;
      }
      if (++rows_ > opts_.max_rows) {
        problems_.add(rec.line, 0, "",
                      "more than " + std::to_string(opts_.max_rows) + " rows (the limit); the rest "
                      "of the file is not checked");
        return;
      }
      row(rec);
    }
    if (unterminated)
      return;
    if (!have_header)
      problems_.add(0, 0, "", "the file is empty: no header and no rows");
    else if (rows_ == 0)
      problems_.add(header_line_, 0, "",
                    "the file has a header but no rows: a BOM needs at least one item");
  }

private:
  // What the scanner marked, and UTF-8: for every record, header and blank ones too.
  void check_syntax(const record& rec) {
    for (std::size_t i = 0; i < rec.fields.size(); ++i) {
      if (rec.fields[i].text_after_quote)
        problems_.add(rec.line, i + 1, name_of(i + 1),
                      "text after the closing quote of a quoted field (a quote inside quotes is "
                      "written twice: \"\")");
      if (rec.unterminated && i + 1 == rec.count)
        break;  // its text is the rest of the file: reported below, not checked
      const auto& text = rec.fields[i].text;
      auto at = invalid_utf8_at(text);
      if (at != std::string_view::npos)
        problems_.add(rec.line, i + 1, name_of(i + 1),
                      "invalid UTF-8: byte " + hex_byte(static_cast<unsigned char>(text[at])) +
                          " at byte " + std::to_string(at + 1) +
                          " of the cell (is the file Windows-1252 or Latin-1? export it as UTF-8)");
    }
    if (rec.unterminated) {
      std::string where = rec.unterminated != rec.line
                              ? " (the quote opens on line " + std::to_string(rec.unterminated) + ")"
                              : "";
      problems_.add(rec.line, rec.count, name_of(rec.count),
                    "unterminated quote: the quoted field" + where + " runs to the end of the file");
    }
  }

  std::string name_of(std::size_t index) const {
    return index >= 1 && index <= header_.size() ? header_[index - 1] : "";
  }

  void header(const record& rec) {
    header_line_ = rec.line;
    if (rec.count > rec.fields.size())
      problems_.add(rec.line, rec.fields.size() + 1, "",
                    "the header has " + std::to_string(rec.count) + " columns, more than the limit of " +
                        std::to_string(opts_.max_columns));
    for (const auto& f : rec.fields)
      header_.emplace_back(trim(f.text));
    for (std::size_t i = 0; i < header_.size(); ++i) {
      auto key = lower(header_[i]);
      if (key.empty())
        continue;
      for (int r = 0; r < roles; ++r) {
        const auto& names = role_names(opts_.columns, r);
        bool match = std::any_of(names.begin(), names.end(),
                                 [&](const std::string& n) { return lower(trim(n)) == key; });
        if (!match)
          continue;
        if (columns_[r].index != 0) {
          problems_.add(rec.line, i + 1, header_[i],
                        "duplicate column: " + shown(header_[i]) + " is a " + role_name(r) +
                            " column, and so is column " + std::to_string(columns_[r].index) +
                            " (" + shown(columns_[r].name) + "); keep one");
        } else {
          columns_[r] = {i + 1, header_[i]};
        }
        break;
      }
    }
    auto missing = [&](int r) {
      return "missing required column: no " + std::string(role_name(r)) +
             " column (a header named " + joined(role_names(opts_.columns, r)) + ")";
    };
    if (columns_[part_number_role].index == 0)
      problems_.add(rec.line, 0, "", missing(part_number_role));
    if (columns_[designators_role].index == 0 && columns_[quantity_role].index == 0)
      problems_.add(rec.line, 0, "",
                    "missing required column: neither a designators column (a header named " +
                        joined(opts_.columns.designators) +
                        ") nor a quantity column (a header named " + joined(opts_.columns.quantity) +
                        "); a BOM needs one of them");
  }

  std::string_view cell(const record& rec, int r) const {
    auto i = columns_[r].index;
    return i == 0 || i > rec.fields.size() ? std::string_view{} : trim(rec.fields[i - 1].text);
  }

  void add(const record& rec, int r, std::string message) {
    problems_.add(rec.line, columns_[r].index, columns_[r].name, std::move(message));
  }

  void row(const record& rec) {
    // Extra fields are an error only when they hold text: Excel pads rows with separators.
    std::size_t extra = 0;
    for (std::size_t i = header_.size(); i < rec.fields.size() && extra == 0; ++i)
      if (!trim(rec.fields[i].text).empty())
        extra = i + 1;
    if (extra == 0 && rec.dropped_text)
      extra = std::max(header_.size(), rec.fields.size()) + 1;
    if (extra != 0)
      problems_.add(rec.line, extra, "",
                    "the row has " + std::to_string(rec.count) + " fields but the header has " +
                        std::to_string(header_.size()) +
                        " (a separator inside a cell needs quotes: \"R1,R2\")");

    item it;
    it.line = rec.line;
    bool good = true;

    // Designators.
    std::size_t designator_problems = 0;
    if (columns_[designators_role].index != 0) {
      std::size_t budget = opts_.max_designators - std::min(opts_.max_designators, designator_total_);
      it.designators = expand_designators(cell(rec, designators_role), opts_, budget, [&](std::string m) {
        add(rec, designators_role, std::move(m));
        ++designator_problems;
      });
      good = good && designator_problems == 0;
      for (const auto& d : it.designators) {
        if (designator_total_ >= opts_.max_designators) {
          if (!designator_limit_reported_)
            add(rec, designators_role,
                "more than " + std::to_string(opts_.max_designators) +
                    " designators in the file (the limit)");
          designator_limit_reported_ = true;
          good = false;
          break;
        }
        ++designator_total_;
        auto [at, fresh] = seen_.emplace(upper(d), rec.line);
        if (fresh)
          continue;
        good = false;
        if (at->second == rec.line)
          add(rec, designators_role, "duplicate designator " + d + ": it appears twice on this row");
        else
          add(rec, designators_role,
              "duplicate designator " + d + ": it is also on line " + std::to_string(at->second));
      }
    }

    // Quantity.
    std::optional<int64_t> quantity;
    auto qcell = cell(rec, quantity_role);
    if (columns_[quantity_role].index != 0 && !qcell.empty()) {
      std::string why;
      quantity = parse_quantity(qcell, opts_, why);
      if (!quantity) {
        add(rec, quantity_role, why);
        good = false;
      }
    }
    bool quantity_given = columns_[quantity_role].index != 0 && !qcell.empty();
    if (!it.designators.empty()) {
      if (quantity && *quantity != static_cast<int64_t>(it.designators.size()) &&
          designator_problems == 0) {
        add(rec, quantity_role,
            "quantity is " + std::to_string(*quantity) + " but " +
                std::to_string(it.designators.size()) + " designator" +
                (it.designators.size() == 1 ? " is" : "s are") + " given (" +
                list_designators(it.designators) + ")");
        good = false;
      }
      it.quantity = quantity.value_or(static_cast<int64_t>(it.designators.size()));
    } else if (quantity) {
      it.quantity = *quantity;
    } else if (!quantity_given && designator_problems == 0 &&
               (columns_[designators_role].index != 0 || columns_[quantity_role].index != 0)) {
      problems_.add(rec.line, 0, "",
                    "the row has neither designators nor a quantity; it needs at least one");
      good = false;
    }

    // Part number.
    if (columns_[part_number_role].index != 0) {
      it.part_number = std::string(cell(rec, part_number_role));
      if (it.part_number.empty()) {
        add(rec, part_number_role, "empty part number");
        good = false;
      }
    }

    it.description = std::string(cell(rec, description_role));

    auto scell = cell(rec, side_role);
    auto s = parse_side(scell);
    if (!s) {
      add(rec, side_role,
          "side " + shown(scell) +
              " is neither top (T, Top, Top Layer, Front, F.Cu) nor bottom (B, Bot, Bottom, "
              "Bottom Layer, Back, B.Cu)");
      good = false;
    } else {
      it.side = *s;
    }

    if (good && !problems_.any())
      r_.items.push_back(std::move(it));
    else
      r_.items.clear();  // all or nothing: stop holding items once the file is refused
  }

  const options& opts_;
  result& r_;
  sink& problems_;
  std::vector<std::string> header_;
  std::size_t header_line_ = 0;
  column columns_[roles];
  std::size_t rows_ = 0;
  std::size_t designator_total_ = 0;
  bool designator_limit_reported_ = false;
  std::unordered_map<std::string, std::size_t> seen_;  // upper-case designator -> its line
};

std::string quoted_if_needed(std::string_view s, char sep) {
  bool needs = s.find_first_of(std::string{sep, '"', '\r', '\n'}) != std::string_view::npos ||
               (!s.empty() && (is_space(s.front()) || is_space(s.back())));
  if (!needs)
    return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

} // namespace

const char* to_string(side s) {
  switch (s) {
    case side::top: return "top";
    case side::bottom: return "bottom";
    default: return "";
  }
}

result parse(std::string_view bytes, const options& opts) {
  result r;
  sink problems(r, std::max<std::size_t>(opts.max_problems, 1));
  if (!check_options(opts, problems))
    return r;
  if (bytes.size() > opts.max_bytes) {
    problems.add(0, 0, "",
                 "the file is " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                     std::to_string(opts.max_bytes));
    return r;
  }
  if (bytes.size() >= 2 && ((bytes[0] == '\xFF' && bytes[1] == '\xFE') ||
                            (bytes[0] == '\xFE' && bytes[1] == '\xFF'))) {
    problems.add(0, 0, "", "the file is UTF-16 (it starts with a UTF-16 byte-order mark); "
                           "export it as UTF-8");
    return r;
  }
  if (auto nul = bytes.find('\0'); nul != std::string_view::npos) {
    auto line = 1 + std::count(bytes.begin(), bytes.begin() + nul, '\n');
    problems.add(static_cast<std::size_t>(line), 0, "",
                 "NUL byte: this is not a text file (UTF-16 without a byte-order mark?); "
                 "export it as UTF-8");
    return r;
  }
  std::size_t pos = 0, line = 1;
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF")
    pos = 3;
  char sep = opts.separator;
  // Excel's "sep=;" line names the separator and is not part of the data.
  auto first = bytes.substr(pos, 6);
  if (first.size() >= 5 && lower(first.substr(0, 4)) == "sep=" &&
      (first.size() == 5 || first[5] == '\r' || first[5] == '\n') && first[4] != '"' &&
      first[4] != '\r' && first[4] != '\n') {
    if (sep == 0)
      sep = first[4];
    pos += 5;
    if (pos < bytes.size() && bytes[pos] == '\r')
      ++pos;
    if (pos < bytes.size() && bytes[pos] == '\n')
      ++pos;
    ++line;
  }
  if (sep == 0)
    sep = detect_separator(bytes, pos);
  r.separator = sep;

  scanner scan(bytes, pos, line, sep, std::max<std::size_t>(opts.max_columns, 1));
  importer imp(opts, r, problems);
  imp.run(scan);
  if (problems.any())
    r.items.clear();
  return r;
}

std::string format(const problem& p) {
  std::string where;
  if (p.line == 0)
    where = "file";
  else if (p.column == 0)
    where = "line " + std::to_string(p.line);
  else
    where = "line " + std::to_string(p.line) + ", column " + std::to_string(p.column) +
            (p.column_name.empty() ? "" : " (" + p.column_name + ")");
  return where + ": " + p.message;
}

std::string format_problems(const result& r) {
  std::string out;
  for (const auto& p : r.problems)
    out += format(p) + "\n";
  if (r.problems_omitted > 0)
    out += "... and " + std::to_string(r.problems_omitted) + " more problem" +
           (r.problems_omitted == 1 ? "" : "s") + "\n";
  return out;
}

std::string write(const std::vector<item>& items, char separator) {
  const char sep = separator;
  std::string out;
  auto row = [&](std::initializer_list<std::string_view> cells) {
    bool first = true;
    for (auto c : cells) {
      if (!first)
        out += sep;
      out += quoted_if_needed(c, sep);
      first = false;
    }
    out += '\n';
  };
  row({"Designator", "Part Number", "Quantity", "Description", "Side"});
  for (const auto& it : items) {
    std::string ds;
    for (const auto& d : it.designators)
      ds += (ds.empty() ? "" : " ") + d;
    row({ds, it.part_number, std::to_string(it.quantity), it.description, to_string(it.side)});
  }
  return out;
}

} // namespace edgemes::mes::bom_csv
