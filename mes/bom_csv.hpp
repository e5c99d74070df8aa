// mes/bom_csv: a bill of materials read from the CSV file an ERP or CAD tool
// exports. Pure: bytes in, items or problems out; no files, no database.
//
// The file (docs/MES.md, "Importing a BOM", is the user's version of this):
// - UTF-8, with or without a byte-order mark; UTF-16 is refused by name.
// - RFC 4180 records: fields separated by ';' or ',' (detected from the
//   header row: the one of the two that occurs more often outside quotes;
//   `sep=X` as the first line, as Excel writes it, or options::separator
//   forces it), quoted fields with doubled quotes and separators or line ends
//   inside, CRLF or LF (or a lone CR) line ends. Blank lines and lines of
//   nothing but separators are ignored wherever they are.
// - The first non-blank record is the header. Each header cell is trimmed and
//   matched case-insensitively against the names in options::columns. Part
//   number is required, and at least one of designators and quantity; the
//   description and side columns are optional; other columns are ignored.
// - Each further record is one item:
//     designators  "R1, R2 R5-R8;R10" -> R1 R2 R5 R6 R7 R8 R10: separated by
//                  ',', ';', spaces or tabs; a range is PREFIX N - PREFIX M
//                  (or PREFIX N - M) with the same prefix and N <= M. Each
//                  designator is unique in the whole file (case-insensitive).
//     quantity     a positive integer in plain digits ("4"; "4.0", "1,000",
//                  "0" and "-1" are refused: with ';' files "1,000" is one
//                  in some locales and a thousand in others). With
//                  designators it must equal their count; an empty quantity
//                  cell with designators means their count. Without
//                  designators (mechanical parts: screws, labels, a stencil)
//                  the quantity is required and taken as is.
//     part number  not empty.
//     side         top or bottom, normalised from T/TOP/Top Layer/Front/F.Cu
//                  and B/BOT/Bottom Layer/Back/B.Cu, any case; empty allowed.
//
// All or nothing: a result holds either every item of the file or every
// problem found (up to options::max_problems, then a count of the rest), each
// with the physical line (1-based) where its record starts and, when it
// concerns one cell, that cell's column (1-based) and header name.
//
// Bounds (options): input longer than max_bytes is refused before parsing;
// a record keeps at most max_columns fields; at most max_rows items; a range
// expands to at most max_range designators and the file to max_designators;
// at most max_problems problems are kept, each quoting at most 40 bytes of the
// file. So memory is a small multiple of the input's size plus a bounded
// amount (measured peaks in docs/MES.md, "Limits").
//
// Thread-safety: plain values; parse() and write() are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgemes::mes::bom_csv {

// Header names recognised for each column, matched case-insensitively after
// trimming. The caller may replace any list (e.g. with a customer's "Bauteil").
// A header cell matching names of two columns is a problem of the options.
struct column_names {
  std::vector<std::string> designators{"Designator", "Designators", "RefDes", "Reference",
                                       "References", "Ref", "Refs", "Ref Des"};
  std::vector<std::string> part_number{"Part Number", "PartNumber", "Part No", "Part No.",
                                       "MPN", "Manufacturer Part Number", "P/N", "PN"};
  std::vector<std::string> quantity{"Quantity", "Qty", "Qnty", "Qty."};
  std::vector<std::string> description{"Description"};
  std::vector<std::string> side{"Side", "Layer", "Mount Side"};
};

struct options {
  column_names columns;
  char separator = 0;                   // 0 = detect ';' or ','; else this byte (e.g. '\t')
  std::size_t max_bytes = 16u << 20;    // larger input: one problem, nothing parsed
  std::size_t max_problems = 100;       // problems kept; the rest are only counted
  std::size_t max_columns = 1000;       // fields kept per record; more in the header is a problem
  std::size_t max_rows = 100000;        // item rows; past it one problem and the scan stops
  std::size_t max_range = 10000;        // designators one range may expand to
  std::size_t max_designators = 200000; // designators in the whole file, after expansion
  int64_t max_quantity = 1000000000;    // largest quantity accepted on one row
};

enum class side { unspecified, top, bottom };

// "top", "bottom" or "" (unspecified).
const char* to_string(side s);

// One row of the BOM.
struct item {
  std::size_t line = 0;                  // physical line where the record starts, 1-based
  std::vector<std::string> designators;  // expanded, in file order, as written; may be empty
  std::string part_number;               // trimmed, never empty
  int64_t quantity = 0;                  // > 0; == designators.size() when there are designators
  std::string description;               // trimmed; may be empty
  enum side side = side::unspecified;
};

// One problem with the file. `line` 0 means the whole file (empty, too large);
// `column` 0 means the whole record or the header (a missing column).
struct problem {
  std::size_t line = 0;      // 1-based physical line where the record starts
  std::size_t column = 0;    // 1-based field index in the record
  std::string column_name;   // the header cell of that column, as written; may be ""
  std::string message;       // what is wrong, e.g. "quantity is 3 but 4 designators are given"
};

struct result {
  std::vector<item> items;         // every item when problems is empty, else empty
  std::vector<problem> problems;   // in file order; at most options::max_problems
  std::size_t problems_omitted = 0;  // further problems found but not kept
  char separator = 0;              // the field separator used (0 when none was decided)
  bool ok() const { return problems.empty(); }
};

// Parses a whole CSV file. Never throws on any input (std::bad_alloc aside).
result parse(std::string_view bytes, const options& opts = {});

// "line 4, column 2 (Qty): quantity is 3 but 4 designators are given";
// "line 4: ..." without a column, "file: ..." for line 0.
std::string format(const problem& p);

// Every problem, one per line, then "... and N more problems" when some were omitted.
std::string format_problems(const result& r);

// The canonical CSV of `items`: header "Designator,Part Number,Quantity,
// Description,Side" (with `separator` between fields), LF line ends, every
// field (header too) quoted when it holds the separator, a quote, a line end
// or spaces at either end; designators joined by one space. parse() of the
// result with the same separator gives back the same items, line numbers aside.
std::string write(const std::vector<item>& items, char separator = ',');

} // namespace edgemes::mes::bom_csv
