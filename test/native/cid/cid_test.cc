// SPDX-License-Identifier: MIT
#include "cid/cid.h"

#include <string>
#include <unordered_set>

#include "cbor/atjson.h"
#include "cid/varint.h"
#include "harness.h"
#include "json.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::unhex;

namespace {

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

TEST(cid_string_round_trip_blessed) {
  const char* s = "bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq";
  cid::Cid c;
  REQUIRE(cid::parse_string(s, &c) == cid::Error::ok);
  CHECK_EQ(c.size(), cid::kBlessedSize);
  CHECK(c.view().is_blessed_dag_cbor());
  CHECK(!c.view().is_blessed_raw());
  CHECK_EQ(c.view().codec(), cid::kCodecDagCbor);
  CHECK_EQ(c.view().hash_code(), cid::kHashSha256);
  CHECK_EQ(c.view().digest().size(), size_t{32});
  CHECK_EQ(cid::to_string(c.view()), std::string(s));
  cid::Cid raw;
  REQUIRE(cid::parse_string("bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity", &raw) ==
          cid::Error::ok);
  CHECK(raw.view().is_blessed_raw());
  CHECK(!(raw == c));
}

TEST(cid_syntax_fixtures) {
  std::string dir = test::shared_dir();
  if (dir.empty()) return test::skip("../shared/atproto not found");
  std::string text;
  // Valid: every base32 'b' CIDv1 parses and formats back identically. Other multibases
  // (z…, m…, f…, base10) are valid CID syntax but never appear in atproto: we reject them
  // as unsupported_multibase on purpose.
  REQUIRE(test::read_file(dir + "/atproto/interop/syntax/cid_syntax_valid.txt", text));
  int base32 = 0;
  for (const std::string& line : test::fixture_lines(text)) {
    cid::Cid c;
    cid::Error e = cid::parse_string(line, &c);
    if (line[0] == 'b') {
      base32++;
      if (!CHECK_EQ(std::string(cid::name(e)), std::string("ok"))) continue;
      CHECK_EQ(cid::to_string(c.view()), line);
    } else {
      CHECK_EQ(std::string(cid::name(e)), std::string("unsupported_multibase"));
    }
  }
  CHECK(base32 >= 2);
  REQUIRE(test::read_file(dir + "/atproto/interop/syntax/cid_syntax_invalid.txt", text));
  for (const std::string& line : test::fixture_lines(text)) {
    cid::Cid c;
    if (!CHECK(cid::parse_string(line, &c) != cid::Error::ok)) test::fail(__FILE__, __LINE__, line);
  }
}

TEST(cid_binary_parse_rules) {
  Bytes blessed = unhex("01 71 12 20");
  blessed.resize(36, 0x11);
  cid::CidView v;
  CHECK_EQ(cid::parse_binary(blessed, &v), cid::Error::ok);
  CHECK_EQ(v.size(), size_t{36});
  Bytes longer = blessed;
  longer.push_back(0);
  CHECK_EQ(cid::parse_binary(longer, &v), cid::Error::trailing_bytes);
  CHECK_EQ(cid::parse_binary_prefix(longer, &v), cid::Error::ok);
  CHECK_EQ(v.size(), size_t{36});
  CHECK_EQ(cid::parse_binary({blessed.data(), 35}, &v), cid::Error::truncated);
  // CIDv0 (bare multihash) and version 2 are rejected.
  Bytes v0 = unhex("12 20");
  v0.resize(34, 0x22);
  CHECK_EQ(cid::parse_binary(v0, &v), cid::Error::unsupported_version);
  CHECK_EQ(cid::parse_binary(unhex("02 71 12 20"), &v), cid::Error::unsupported_version);
  // sha2-256 must carry 32 bytes.
  Bytes short_digest = unhex("01 71 12 10");
  short_digest.resize(20, 0x33);
  CHECK_EQ(cid::parse_binary(short_digest, &v), cid::Error::bad_multihash);
  // Non-minimal varint.
  CHECK_EQ(cid::parse_binary(unhex("01 f1 00 12 20"), &v), cid::Error::bad_varint);
  // Other codec / hash with multi-byte varints: parsed generically, not blessed.
  Bytes other = unhex("01 a0 a4 02 13 40");  // codec 0x9220 (3-byte varint), sha2-512
  other.resize(6 + 64, 0x44);
  REQUIRE(cid::parse_binary(other, &v) == cid::Error::ok);
  CHECK(!v.is_blessed());
  CHECK_EQ(v.codec(), uint64_t{0x9220});
  CHECK_EQ(v.hash_code(), uint64_t{0x13});
  CHECK_EQ(v.digest().size(), size_t{64});
  CHECK(v.digest().data() == other.data() + 6);
  // Identity hash, digest of 0 bytes: structurally fine.
  CHECK_EQ(cid::parse_binary(unhex("01 55 00 00"), &v), cid::Error::ok);
  // Digest longer than the CID size limit.
  CHECK_EQ(cid::parse_binary(unhex("01 55 00 7f"), &v), cid::Error::too_long);
}

TEST(cid_string_rejects_non_canonical_base32) {
  cid::Cid c;
  CHECK_EQ(cid::parse_string("", &c), cid::Error::unsupported_multibase);
  CHECK_EQ(cid::parse_string("Bafy", &c), cid::Error::unsupported_multibase);
  CHECK_EQ(cid::parse_string("bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwQ", &c),
           cid::Error::bad_base32);
  // Last char 'r' instead of 'q' sets a padding bit.
  CHECK_EQ(cid::parse_string("bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwr", &c),
           cid::Error::bad_base32);
  // One char short: truncated digest.
  CHECK(cid::parse_string("bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabw", &c) !=
        cid::Error::ok);
}

TEST(cid_compute_and_verify) {
  std::string data = "hello";
  cid::Cid c = cid::compute_dag_cbor(test::span_of(data));
  CHECK(c.view().is_blessed_dag_cbor());
  CHECK(cid::digest_matches(c.view(), test::span_of(data)));
  std::string other = "hellp";
  CHECK(!cid::digest_matches(c.view(), test::span_of(other)));
  // SHA-256("hello") = 2cf24dba…
  CHECK(starts_with(test::to_hex(c.view().digest()), "2cf24dba5fb0a30e26e83b2ac5b9e29e"));
  uint8_t out[cid::kBlessedSize];
  cid::compute_blessed(cid::kCodecRaw, test::span_of(data), out);
  cid::CidView rv = cid::CidView::unchecked(out, sizeof out);
  CHECK(rv.is_blessed_raw());
  CHECK(!(rv == c.view()));
  CHECK(test::to_hex(rv.digest()) == test::to_hex(c.view().digest()));
  // A non-sha256 CID never "matches".
  Bytes ident = unhex("01 55 00 05 68 65 6c 6c 6f");
  cid::CidView iv;
  REQUIRE(cid::parse_binary(ident, &iv) == cid::Error::ok);
  CHECK(!cid::digest_matches(iv, test::span_of(data)));
}

TEST(cid_hash_and_equality) {
  std::unordered_set<cid::Cid> set;
  for (int i = 0; i < 100; i++) {
    std::string s = "block" + std::to_string(i);
    set.insert(cid::compute_dag_cbor(test::span_of(s)));
  }
  CHECK_EQ(set.size(), size_t{100});
  std::string s = "block7";
  cid::Cid c = cid::compute_dag_cbor(test::span_of(s));
  CHECK(set.count(c) == 1);
  CHECK_EQ(cid::hash(c.view()), std::hash<cid::CidView>()(c.view()));
  // Views of equal bytes at different addresses are equal and hash alike.
  Bytes copy(c.data(), c.data() + c.size());
  cid::CidView v = cid::CidView::unchecked(copy.data(), copy.size());
  CHECK(v == c.view());
  CHECK_EQ(cid::hash(v), cid::hash(c.view()));
  CHECK(cid::CidView() == cid::CidView());
  CHECK(!(cid::CidView() == v));
}

TEST(cid_varints) {
  uint8_t buf[10];
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{300}, uint64_t{1} << 62}) {
    size_t n = cid::write_varint(v, buf);
    CHECK_EQ(n, cid::varint_size(v));
    uint64_t got = 0;
    size_t used = 0;
    REQUIRE(cid::read_varint(buf, buf + n, &got, &used) == cid::VarintResult::ok);
    CHECK_EQ(got, v);
    CHECK_EQ(used, n);
    if (n > 1) CHECK(cid::read_varint(buf, buf + n - 1, &got, &used) == cid::VarintResult::truncated);
  }
  Bytes nonmin = unhex("80 00");
  uint64_t got;
  size_t used;
  CHECK(cid::read_varint(nonmin.data(), nonmin.data() + 2, &got, &used) == cid::VarintResult::non_minimal);
  Bytes too_long(10, 0x80);
  CHECK(cid::read_varint(too_long.data(), too_long.data() + 10, &got, &used) == cid::VarintResult::too_long);
}
