// SPDX-License-Identifier: MIT
// CIDv1: binary parsing (varint version, codec, multihash code and length), the blessed
// atproto form (v1, dag-cbor 0x71 or raw 0x55, sha2-256 with 32-byte digest), base32
// multibase strings ("b…"), computing CIDs, equality and hashing.
//
// Two types:
//   CidView  a validated CID inside someone else's bytes (a CAR section, a CBOR tag-42
//            payload). 16 bytes, trivially copyable; valid while those bytes live.
//   Cid      an owned copy (inline storage, no heap), for results that outlive the input,
//            e.g. a computed MST node CID.
// Equality is byte equality of the binary form, the only meaningful CID identity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ringlay::cid {

inline constexpr uint64_t kCodecDagCbor = 0x71;
inline constexpr uint64_t kCodecRaw = 0x55;
inline constexpr uint64_t kHashSha256 = 0x12;
inline constexpr size_t kSha256Size = 32;
// 01 <codec> 12 20 <32-byte digest>: every blessed CID is exactly this long.
inline constexpr size_t kBlessedSize = 36;
// Longest binary CID accepted anywhere (atproto's data-validation guide suggests 100).
inline constexpr size_t kMaxBytes = 100;
// Longest base32 multibase string of a kMaxBytes CID: 'b' + ceil(100 * 8 / 5).
inline constexpr size_t kMaxStringSize = 1 + (kMaxBytes * 8 + 4) / 5;

enum class Error : uint8_t {
  ok,
  truncated,              // input ends inside a varint or the digest
  bad_varint,             // non-minimal or over-long varint
  unsupported_version,    // CIDv0 (starts with 0x12) or version other than 1
  bad_multihash,          // digest length mismatch, e.g. sha2-256 with a length other than 32
  too_long,               // more than kMaxBytes
  trailing_bytes,         // bytes after a complete CID where the whole input was one CID
  unsupported_multibase,  // string CIDs: only lower-case base32 ('b') is accepted
  bad_base32,             // invalid base32 character or non-zero padding bits
};
const char* name(Error e);

class CidView {
 public:
  CidView() = default;
  // No validation: only for bytes that parse_binary already accepted.
  static CidView unchecked(const uint8_t* data, size_t size) {
    CidView v;
    v.data_ = data;
    v.size_ = static_cast<uint32_t>(size);
    return v;
  }

  bool empty() const { return size_ == 0; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

  // v1 + dag-cbor|raw + sha2-256/32.
  bool is_blessed() const {
    return size_ == kBlessedSize && data_[0] == 0x01 &&
           (data_[1] == kCodecDagCbor || data_[1] == kCodecRaw) && data_[2] == kHashSha256 &&
           data_[3] == kSha256Size;
  }
  bool is_blessed_dag_cbor() const { return is_blessed() && data_[1] == kCodecDagCbor; }
  bool is_blessed_raw() const { return is_blessed() && data_[1] == kCodecRaw; }

  // Fields, read from the varints (the view is known valid).
  uint64_t codec() const;
  uint64_t hash_code() const;
  std::span<const uint8_t> digest() const;

  friend bool operator==(CidView a, CidView b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }

 private:
  const uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
};

class Cid {
 public:
  Cid() = default;
  static Cid copy_of(CidView v);
  CidView view() const { return CidView::unchecked(bytes_, size_); }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return bytes_; }
  friend bool operator==(const Cid& a, const Cid& b) { return a.view() == b.view(); }
  friend bool operator==(const Cid& a, CidView b) { return a.view() == b; }

 private:
  uint8_t size_ = 0;
  uint8_t bytes_[kMaxBytes] = {};
};

// Parses a binary CID that must span all of `in`.
Error parse_binary(std::span<const uint8_t> in, CidView* out);
// Parses the CID at the start of `in` (a CAR section); out->size() is how much it used.
Error parse_binary_prefix(std::span<const uint8_t> in, CidView* out);

// "b" + base32 lower-case, no padding. CIDv0 ("Qm…") and other multibases are rejected:
// atproto only ever writes this form.
Error parse_string(std::string_view s, Cid* out);
std::string to_string(CidView v);
// Writes the string form into out (room for string_size(v) bytes); returns its length.
size_t string_size(CidView v);
size_t format(CidView v, char* out);

// The CID of `bytes` as a block: v1, given codec, sha2-256.
Cid compute(uint64_t codec, std::span<const uint8_t> bytes);
inline Cid compute_dag_cbor(std::span<const uint8_t> bytes) { return compute(kCodecDagCbor, bytes); }
// Writes the 36-byte blessed CID of `bytes` into out (no Cid object; for encoders).
void compute_blessed(uint64_t codec, std::span<const uint8_t> bytes, uint8_t out[kBlessedSize]);

// True when v is a sha2-256/32 CID and SHA-256(bytes) equals its digest. Any other hash
// function is reported false (atproto blocks are sha2-256 only).
bool digest_matches(CidView v, std::span<const uint8_t> bytes);

// Hash for hash tables. Uses the digest's tail, mixed: digests are SHA-256 output for every
// block a CAR reader indexes (they are verified), so attackers cannot aim collisions there.
size_t hash(CidView v);

struct ViewHash {
  size_t operator()(CidView v) const { return hash(v); }
  size_t operator()(const Cid& c) const { return hash(c.view()); }
};

}  // namespace ringlay::cid

template <>
struct std::hash<ringlay::cid::CidView> {
  size_t operator()(ringlay::cid::CidView v) const { return ringlay::cid::hash(v); }
};
template <>
struct std::hash<ringlay::cid::Cid> {
  size_t operator()(const ringlay::cid::Cid& c) const { return ringlay::cid::hash(c.view()); }
};
