// SPDX-License-Identifier: MIT
#include "cid/cid.h"

#include "cid/varint.h"
#include "util/assert.h"
#include "util/sha256.h"

namespace ringlay::cid {

const char* name(Error e) {
  switch (e) {
    case Error::ok: return "ok";
    case Error::truncated: return "truncated";
    case Error::bad_varint: return "bad_varint";
    case Error::unsupported_version: return "unsupported_version";
    case Error::bad_multihash: return "bad_multihash";
    case Error::too_long: return "too_long";
    case Error::trailing_bytes: return "trailing_bytes";
    case Error::unsupported_multibase: return "unsupported_multibase";
    case Error::bad_base32: return "bad_base32";
  }
  return "unknown";
}

namespace {

struct Fields {
  uint64_t codec = 0;
  uint64_t hash_code = 0;
  size_t digest_offset = 0;
  size_t digest_size = 0;
};

Error varint_error(VarintResult r) {
  return r == VarintResult::truncated ? Error::truncated : Error::bad_varint;
}

// Reads version, codec, multihash code and length; the digest must follow in full.
Error read_fields(const uint8_t* p, const uint8_t* end, Fields* f, size_t* total) {
  // CIDv0 is a bare sha2-256 multihash (0x12 0x20 …): never produced by atproto.
  if (p < end && *p == 0x12) return Error::unsupported_version;
  uint64_t v[4];
  size_t pos = 0;
  for (int i = 0; i < 4; i++) {
    size_t used = 0;
    VarintResult r = read_varint(p + pos, end, &v[i], &used);
    if (r != VarintResult::ok) return varint_error(r);
    pos += used;
    if (i == 0 && v[0] != 1) return Error::unsupported_version;
  }
  f->codec = v[1];
  f->hash_code = v[2];
  if (v[3] > kMaxBytes) return Error::too_long;
  if (v[2] == kHashSha256 && v[3] != kSha256Size) return Error::bad_multihash;
  f->digest_offset = pos;
  f->digest_size = static_cast<size_t>(v[3]);
  if (static_cast<size_t>(end - p) - pos < f->digest_size) return Error::truncated;
  *total = pos + f->digest_size;
  if (*total > kMaxBytes) return Error::too_long;
  return Error::ok;
}

Fields fields_of(CidView v) {
  Fields f;
  size_t total = 0;
  Error e = read_fields(v.data(), v.data() + v.size(), &f, &total);
  RL_ASSERT(e == Error::ok);  // a CidView is only made from validated bytes
  return f;
}

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int8_t base32_value(char c) {
  if (c >= 'a' && c <= 'z') return static_cast<int8_t>(c - 'a');
  if (c >= '2' && c <= '7') return static_cast<int8_t>(c - '2' + 26);
  return -1;
}

}  // namespace

uint64_t CidView::codec() const {
  if (is_blessed()) return data_[1];
  return fields_of(*this).codec;
}

uint64_t CidView::hash_code() const {
  if (is_blessed()) return kHashSha256;
  return fields_of(*this).hash_code;
}

std::span<const uint8_t> CidView::digest() const {
  if (is_blessed()) return {data_ + 4, kSha256Size};
  Fields f = fields_of(*this);
  return {data_ + f.digest_offset, f.digest_size};
}

Cid Cid::copy_of(CidView v) {
  RL_ASSERT(v.size() <= kMaxBytes);
  Cid c;
  c.size_ = static_cast<uint8_t>(v.size());
  if (v.size() > 0) std::memcpy(c.bytes_, v.data(), v.size());
  return c;
}

Error parse_binary_prefix(std::span<const uint8_t> in, CidView* out) {
  // Fast path: the blessed form is by far the most common.
  if (in.size() >= kBlessedSize && CidView::unchecked(in.data(), kBlessedSize).is_blessed()) {
    *out = CidView::unchecked(in.data(), kBlessedSize);
    return Error::ok;
  }
  Fields f;
  size_t total = 0;
  Error e = read_fields(in.data(), in.data() + in.size(), &f, &total);
  if (e != Error::ok) return e;
  *out = CidView::unchecked(in.data(), total);
  return Error::ok;
}

Error parse_binary(std::span<const uint8_t> in, CidView* out) {
  CidView v;
  Error e = parse_binary_prefix(in, &v);
  if (e != Error::ok) return e;
  if (v.size() != in.size()) return in.size() > kMaxBytes ? Error::too_long : Error::trailing_bytes;
  *out = v;
  return Error::ok;
}

size_t string_size(CidView v) { return 1 + (v.size() * 8 + 4) / 5; }

size_t format(CidView v, char* out) {
  size_t n = 0;
  out[n++] = 'b';
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < v.size(); i++) {
    acc = (acc << 8) | v.data()[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[n++] = kAlphabet[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out[n++] = kAlphabet[(acc << (5 - bits)) & 31];
  return n;
}

std::string to_string(CidView v) {
  std::string s(string_size(v), '\0');
  s.resize(format(v, s.data()));
  return s;
}

Error parse_string(std::string_view s, Cid* out) {
  if (s.empty() || s[0] != 'b') return Error::unsupported_multibase;
  if (s.size() > kMaxStringSize) return Error::too_long;
  uint8_t buf[kMaxBytes + 1];
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 1; i < s.size(); i++) {
    int8_t d = base32_value(s[i]);
    if (d < 0) return Error::bad_base32;
    acc = (acc << 5) | static_cast<uint32_t>(d);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (n == sizeof buf) return Error::too_long;
      buf[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  // Leftover bits must be fewer than a byte and zero, so the string is the canonical form.
  if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) return Error::bad_base32;
  CidView v;
  Error e = parse_binary({buf, n}, &v);
  if (e != Error::ok) return e;
  *out = Cid::copy_of(v);
  return Error::ok;
}

void compute_blessed(uint64_t codec, std::span<const uint8_t> bytes, uint8_t out[kBlessedSize]) {
  RL_ASSERT(codec < 0x80);  // one-byte varint: dag-cbor or raw
  out[0] = 0x01;
  out[1] = static_cast<uint8_t>(codec);
  out[2] = kHashSha256;
  out[3] = kSha256Size;
  Sha256Digest d = sha256(bytes);
  std::memcpy(out + 4, d.data(), d.size());
}

Cid compute(uint64_t codec, std::span<const uint8_t> bytes) {
  uint8_t buf[kBlessedSize];
  compute_blessed(codec, bytes, buf);
  return Cid::copy_of(CidView::unchecked(buf, kBlessedSize));
}

bool digest_matches(CidView v, std::span<const uint8_t> bytes) {
  if (v.empty() || v.hash_code() != kHashSha256) return false;
  std::span<const uint8_t> d = v.digest();
  if (d.size() != kSha256Size) return false;
  Sha256Digest got = sha256(bytes);
  return std::memcmp(got.data(), d.data(), kSha256Size) == 0;
}

size_t hash(CidView v) {
  if (v.size() < 8) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < v.size(); i++) h = (h ^ v.data()[i]) * 0x100000001b3ull;
    return static_cast<size_t>(h);
  }
  uint64_t tail;
  std::memcpy(&tail, v.data() + v.size() - 8, 8);
  // Mix in the size and codec byte so that a raw and a dag-cbor CID of the same bytes differ.
  uint64_t h = (tail ^ (static_cast<uint64_t>(v.size()) << 56) ^ v.data()[1]) * 0x9e3779b97f4a7c15ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

}  // namespace ringlay::cid
