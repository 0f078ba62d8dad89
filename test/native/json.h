// SPDX-License-Identifier: MIT
// A small JSON reader for native tests that load fixtures from ../shared/atproto. Test-only:
// the product never parses JSON natively. No exceptions: parse() returns false on bad input.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringlay::test {

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool b = false;
  double num = 0;
  std::string str;  // string value (UTF-8)
  std::vector<Json> items;  // array
  std::vector<std::pair<std::string, Json>> members;  // object, in document order

  bool is_null() const { return kind == Kind::null; }
  // Member lookup; returns a shared null value when missing or not an object.
  const Json& operator[](std::string_view key) const;
  const Json& operator[](size_t i) const;
  size_t size() const { return kind == Kind::array ? items.size() : members.size(); }
  bool has(std::string_view key) const;
  int64_t as_int() const { return static_cast<int64_t>(num); }
};

// Parses a whole document. On failure returns false and sets *error (offset and reason).
bool parse_json(std::string_view text, Json& out, std::string* error = nullptr);

// Reads a file into a string; returns false when it cannot be read.
bool read_file(const std::string& path, std::string& out);

// Loads and parses a JSON file, or returns false (with a reason in *error).
bool load_json(const std::string& path, Json& out, std::string* error = nullptr);

// Decodes standard or URL-safe base64, padded or not. Returns false on bad input.
bool base64_decode(std::string_view in, std::string& out);

// Lines of a text fixture: skips empty lines and lines starting with '#', never trims.
std::vector<std::string> fixture_lines(const std::string& text);

}  // namespace ringlay::test
