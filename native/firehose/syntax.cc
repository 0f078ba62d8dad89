// SPDX-License-Identifier: MIT
// Hand-written matchers for the atproto syntax rules (the regexes in the specs), checked
// against every interop/syntax fixture by test/native/firehose/syntax_test.cc.
#include "firehose/syntax.h"

namespace ringlay::firehose {

namespace {

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

// A hostname label: 1..63 of [A-Za-z0-9-], not starting or ending with '-'.
bool valid_label(std::string_view l) {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  for (char c : l) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

constexpr std::string_view kTidAlphabet = "234567abcdefghijklmnopqrstuvwxyz";

int tid_digit(char c) {
  size_t i = kTidAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

bool record_key_char(char c) {
  return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '~';
}

// Reads exactly n digits at s[*pos].
bool digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (s.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[*pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

bool valid_did(std::string_view s) {
  if (s.size() > kMaxDidLength || s.substr(0, 4) != "did:") return false;
  size_t i = 4;
  size_t method_start = i;
  while (i < s.size() && is_lower(s[i])) i++;
  if (i == method_start || i >= s.size() || s[i] != ':') return false;
  i++;
  if (i >= s.size()) return false;  // empty identifier
  for (; i < s.size(); i++) {
    char c = s[i];
    if (!is_alnum(c) && c != '.' && c != '_' && c != ':' && c != '%' && c != '-') return false;
  }
  char last = s.back();
  return last != ':' && last != '%';
}

bool valid_handle(std::string_view s) {
  if (s.size() > kMaxHandleLength) return false;
  size_t labels = 0;
  std::string_view last;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!valid_label(label)) return false;
    labels++;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2 && is_alpha(last.front());
}

bool valid_nsid(std::string_view s) {
  if (s.size() > kMaxNsidLength) return false;
  size_t segments = 0;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view seg = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    bool is_name = dot == std::string_view::npos;
    if (is_name) {
      // The name: letter first, then alphanumerics only, at most 63.
      if (seg.empty() || seg.size() > 63 || !is_alpha(seg.front())) return false;
      for (char c : seg) {
        if (!is_alnum(c)) return false;
      }
    } else {
      if (!valid_label(seg)) return false;
      if (segments == 0 && !is_alpha(seg.front())) return false;  // the TLD
    }
    segments++;
    if (is_name) break;
    start = dot + 1;
  }
  // No separate 253-char cap on the domain part: the fixtures accept a 289-char NSID.
  return segments >= 3;
}

bool valid_tid(std::string_view s) {
  if (s.size() != kTidLength) return false;
  int first = tid_digit(s[0]);
  if (first < 0 || first > 15) return false;  // the top bit must be zero
  for (char c : s.substr(1)) {
    if (tid_digit(c) < 0) return false;
  }
  return true;
}

std::optional<int64_t> tid_micros(std::string_view tid) {
  if (!valid_tid(tid)) return std::nullopt;
  uint64_t v = 0;
  for (char c : tid) v = (v << 5) | static_cast<uint64_t>(tid_digit(c));
  return static_cast<int64_t>(v >> 10);  // the low 10 bits are the clock id
}

bool valid_record_key(std::string_view s) {
  if (s.empty() || s.size() > kMaxRecordKeyLength || s == "." || s == "..") return false;
  for (char c : s) {
    if (!record_key_char(c)) return false;
  }
  return true;
}

bool valid_repo_path(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  return valid_nsid(s.substr(0, slash)) && valid_record_key(s.substr(slash + 1));
}

std::optional<int64_t> datetime_micros(std::string_view s) {
  size_t p = 0;
  int year, month, day, hour, minute, second;
  if (!digits(s, &p, 4, &year) || !expect(s, &p, '-') || !digits(s, &p, 2, &month) ||
      !expect(s, &p, '-') || !digits(s, &p, 2, &day) || !expect(s, &p, 'T') ||
      !digits(s, &p, 2, &hour) || !expect(s, &p, ':') || !digits(s, &p, 2, &minute) ||
      !expect(s, &p, ':') || !digits(s, &p, 2, &second)) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (p < s.size() && s[p] == '.') {
    p++;
    size_t n = 0;
    for (; p < s.size() && is_digit(s[p]); p++, n++) {
      if (n < 6) micros = micros * 10 + (s[p] - '0');
    }
    if (n == 0 || n > 20) return std::nullopt;
    for (; n < 6; n++) micros *= 10;
  }
  int offset_min = 0;
  if (p < s.size() && s[p] == 'Z') {
    p++;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    bool negative = s[p++] == '-';
    int oh, om;
    if (!digits(s, &p, 2, &oh) || !expect(s, &p, ':') || !digits(s, &p, 2, &om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    if (negative && oh == 0 && om == 0) return std::nullopt;  // "-00:00" means unknown offset
    offset_min = (negative ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                 int64_t{offset_min} * 60;
  // Offsets must not carry the instant before year 0.
  if (secs < days_from_civil(0, 1, 1) * 86400) return std::nullopt;
  return secs * 1000000 + micros;
}

bool valid_datetime(std::string_view s) { return datetime_micros(s).has_value(); }

}  // namespace ringlay::firehose
