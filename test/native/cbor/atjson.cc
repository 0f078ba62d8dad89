// SPDX-License-Identifier: MIT
#include "cbor/atjson.h"

#include <algorithm>
#include <cmath>

#include "cbor/encoder.h"
#include "cid/cid.h"
#include "util/assert.h"

namespace ringlay::test {

namespace {

bool encode(const Json& j, cbor::Encoder& e) {
  switch (j.kind) {
    case Json::Kind::null: e.null(); return true;
    case Json::Kind::boolean: e.boolean(j.b); return true;
    case Json::Kind::number:
      if (std::floor(j.num) != j.num) return false;
      e.int64(static_cast<int64_t>(j.num));
      return true;
    case Json::Kind::string: e.text(j.str); return true;
    case Json::Kind::array:
      e.array(static_cast<uint32_t>(j.items.size()));
      for (const Json& item : j.items) {
        if (!encode(item, e)) return false;
      }
      return true;
    case Json::Kind::object: break;
  }
  if (j.members.size() == 1 && j.members[0].first == "$link") {
    cid::Cid c;
    if (cid::parse_string(j.members[0].second.str, &c) != cid::Error::ok) return false;
    e.link(c);
    return true;
  }
  if (j.members.size() == 1 && j.members[0].first == "$bytes") {
    std::string raw;
    if (!base64_decode(j.members[0].second.str, raw)) return false;
    e.bytes(span_of(raw));
    return true;
  }
  std::vector<const std::pair<std::string, Json>*> sorted;
  for (const auto& m : j.members) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return cbor::key_less(a->first, b->first); });
  e.map(static_cast<uint32_t>(sorted.size()));
  for (const auto* m : sorted) {
    e.key(m->first);
    if (!encode(m->second, e)) return false;
  }
  return true;
}

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool encode_atjson(const Json& j, Bytes& out) {
  cbor::Encoder e(out);
  if (!encode(j, e)) return false;
  e.finish();
  return true;
}

Bytes unhex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n') continue;
    int v = nibble(c);
    RL_ASSERT(v >= 0);
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  RL_ASSERT(hi < 0);
  return out;
}

std::string to_hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

}  // namespace ringlay::test
