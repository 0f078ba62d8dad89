// SPDX-License-Identifier: MIT
#include "cbor/decoder.h"

#include <string>

#include "cbor/atjson.h"
#include "cbor/encoder.h"
#include "harness.h"
#include "json.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::unhex;

namespace {

cbor::Error decode_error(const Bytes& b, const cbor::Limits& limits = {}) {
  cbor::Decoder d(limits);
  return d.decode(b).error;
}

const char* reason(const Bytes& b, const cbor::Limits& limits = {}) {
  return cbor::name(decode_error(b, limits));
}

// n nested arrays around a 0.
Bytes nested_arrays(int n) {
  Bytes b(n, 0x81);
  b.push_back(0x00);
  return b;
}

}  // namespace

TEST(cbor_decodes_data_model_fixtures_strictly) {
  std::string dir = test::shared_dir();
  if (dir.empty()) return test::skip("../shared/atproto not found");
  test::Json cases;
  REQUIRE(test::load_json(dir + "/atproto/interop/data-model/data-model-fixtures.json", cases));
  REQUIRE(cases.size() == 3);
  cbor::Decoder dec;
  for (size_t i = 0; i < cases.size(); i++) {
    std::string raw;
    REQUIRE(test::base64_decode(cases[i]["cbor_base64"].str, raw));
    dec.clear();
    cbor::Result r = dec.decode(test::span_of(raw));
    REQUIRE(CHECK_EQ(std::string(cbor::name(r.error)), std::string("ok")));
    // Re-encoding from the tape reproduces the input byte for byte.
    Bytes again;
    cbor::Encoder e(again);
    e.value(r.value);
    e.finish();
    CHECK_EQ(test::to_hex(again), test::to_hex(test::span_of(raw)));
    // Encoding the fixture's JSON gives the same bytes too.
    Bytes from_json;
    REQUIRE(test::encode_atjson(cases[i]["json"], from_json));
    CHECK_EQ(test::to_hex(from_json), test::to_hex(test::span_of(raw)));
    CHECK_EQ(cid::to_string(cid::compute_dag_cbor(test::span_of(raw)).view()), cases[i]["cid"].str);
    CHECK_EQ(r.value.end_pos(), uint32_t(raw.size()));
  }
}

TEST(cbor_rejects_each_rule_with_its_reason) {
  struct Case {
    const char* hex;
    const char* reason;
  } cases[] = {
      {"", "truncated"},
      {"62 61", "truncated"},
      {"a1 61 61", "truncated"},
      {"01 02", "trailing_bytes"},
      {"18 17", "non_minimal_encoding"},          // 23 in one extra byte
      {"19 00 ff", "non_minimal_encoding"},       // 255 in two bytes
      {"1a 00 00 ff ff", "non_minimal_encoding"},
      {"1b 00 00 00 00 ff ff ff ff", "non_minimal_encoding"},
      {"38 00", "non_minimal_encoding"},          // -1 with an extra byte
      {"78 01 61", "non_minimal_encoding"},       // text length
      {"98 01 00", "non_minimal_encoding"},       // array length
      {"5f 41 00 ff", "indefinite_length"},
      {"7f 61 61 ff", "indefinite_length"},
      {"9f ff", "indefinite_length"},
      {"bf ff", "indefinite_length"},
      {"ff", "indefinite_length"},                // stray break
      {"1c", "invalid_additional_info"},
      {"c1 00", "unsupported_tag"},               // epoch time
      {"d8 2b 41 00", "unsupported_tag"},
      {"d8 2a 61 00", "bad_cid"},                 // tag 42 on text
      {"d8 2a 41 00", "bad_cid"},                 // only the prefix
      {"d8 2a 45 01 01 71 12 20", "bad_cid"},     // no 0x00 prefix
      {"d8 2a 45 00 01 71 12 20", "bad_cid"},     // digest missing
      {"d8 2a 43 00 12 20", "bad_cid"},           // CIDv0
      {"f9 3c 00", "float_not_allowed"},
      {"fa 3f 80 00 00", "float_not_allowed"},
      {"fb 3f f0 00 00 00 00 00 00", "float_not_allowed"},
      {"f7", "simple_value_not_allowed"},         // undefined
      {"f0", "simple_value_not_allowed"},
      {"f8 20", "simple_value_not_allowed"},
      {"62 c3 28", "invalid_utf8"},
      {"63 ed a0 80", "invalid_utf8"},            // surrogate
      {"62 c0 80", "invalid_utf8"},               // overlong NUL
      {"64 f4 90 80 80", "invalid_utf8"},         // above U+10FFFF
      {"a1 01 00", "non_text_key"},
      {"a1 41 61 00", "non_text_key"},            // bytes key
      {"a2 61 62 00 61 61 00", "non_canonical_key_order"},
      {"a2 62 61 61 00 61 62 00", "non_canonical_key_order"},  // longer key first
      {"a2 61 61 00 61 61 01", "duplicate_key"},
      {"a1 62 c3 28 00", "invalid_utf8"},         // bad key text
      {"1b 80 00 00 00 00 00 00 00", "integer_out_of_range"},
      {"3b 80 00 00 00 00 00 00 00", "integer_out_of_range"},
  };
  for (const Case& c : cases) {
    if (!CHECK_EQ(std::string(reason(unhex(c.hex))), std::string(c.reason))) {
      test::fail(__FILE__, __LINE__, std::string("case: ") + c.hex);
    }
  }
}

TEST(cbor_reports_failure_offsets) {
  cbor::Decoder d;
  Bytes b = unhex("a2 61 61 00 61 61 00");  // duplicate at offset 4
  cbor::Result r = d.decode(b);
  CHECK_EQ(r.error, cbor::Error::duplicate_key);
  CHECK_EQ(r.offset, 4u);
  CHECK_EQ(d.tape_size(), size_t{0});  // a failed decode leaves nothing on the tape
}

TEST(cbor_integer_extremes) {
  cbor::Decoder d;
  auto r = d.decode(unhex("1b 7f ff ff ff ff ff ff ff"));
  REQUIRE(r.ok());
  CHECK_EQ(*r.value.as_int(), INT64_MAX);
  r = d.decode(unhex("3b 7f ff ff ff ff ff ff ff"));
  REQUIRE(r.ok());
  CHECK_EQ(*r.value.as_int(), INT64_MIN);
  r = d.decode(unhex("20"));
  CHECK_EQ(*r.value.as_int(), int64_t{-1});
  // Round trip through the encoder at every head-size boundary.
  for (int64_t v : {int64_t{0}, int64_t{23}, int64_t{24}, int64_t{255}, int64_t{256}, int64_t{65535},
                    int64_t{65536}, int64_t{4294967295}, int64_t{4294967296}, int64_t{-24}, int64_t{-25},
                    INT64_MIN, INT64_MAX}) {
    Bytes b;
    cbor::Encoder e(b);
    e.int64(v);
    d.clear();
    auto rr = d.decode(b);
    REQUIRE(rr.ok());
    CHECK_EQ(*rr.value.as_int(), v);
    CHECK_EQ(rr.value.end_pos(), uint32_t(b.size()));
  }
}

TEST(cbor_depth_limit) {
  CHECK_EQ(std::string(reason(nested_arrays(32))), std::string("ok"));
  CHECK_EQ(std::string(reason(nested_arrays(33))), std::string("too_deep"));
  // Tag 42 does not count as nesting; maps do.
  Bytes maps;
  for (int i = 0; i < 33; i++) {
    maps.push_back(0xa1);
    maps.push_back(0x61);
    maps.push_back('k');
  }
  maps.push_back(0x00);
  CHECK_EQ(std::string(reason(maps)), std::string("too_deep"));
}

TEST(cbor_size_limits) {
  cbor::Limits small;
  small.max_string = 4;
  small.max_container = 3;
  small.max_key = 2;
  small.max_items = 5;
  CHECK_EQ(std::string(reason(unhex("44 00 00 00 00"), small)), std::string("ok"));
  CHECK_EQ(std::string(reason(unhex("45 00 00 00 00 00"), small)), std::string("too_large"));
  CHECK_EQ(std::string(reason(unhex("65 61 61 61 61 61"), small)), std::string("too_large"));
  CHECK_EQ(std::string(reason(unhex("84 00 00 00 00"), small)), std::string("too_large"));
  CHECK_EQ(std::string(reason(unhex("a1 63 61 61 61 00"), small)), std::string("too_large"));
  CHECK_EQ(std::string(reason(unhex("83 83 00 00 00 00 00"), small)), std::string("too_many_items"));
  // A huge announced count in a short input fails as truncation before any allocation.
  CHECK_EQ(std::string(reason(unhex("9a 00 01 00 00 00"))), std::string("truncated"));
  CHECK_EQ(std::string(reason(unhex("5a 00 10 00 00 00"))), std::string("truncated"));
  CHECK_EQ(std::string(reason(unhex("5a 7f 00 00 00 00"))), std::string("too_large"));
}

TEST(cbor_decode_prefix_reads_back_to_back_items) {
  Bytes b = unhex("a2 61 74 67 23 63 6f 6d 6d 69 74 62 6f 70 01  a1 61 78 05");
  cbor::Decoder d;
  size_t end = 0;
  cbor::Result h = d.decode_prefix(b, &end);
  REQUIRE(h.ok());
  CHECK_EQ(end, size_t{15});
  cbor::Result body = d.decode({b.data() + end, b.size() - end});
  REQUIRE(body.ok());
  // Both values stay valid: the second decode appends to the tape.
  CHECK_EQ(std::string(*h.value.find("t").as_text()), std::string("#commit"));
  CHECK_EQ(*h.value.find("op").as_int(), int64_t{1});
  CHECK_EQ(*body.value.find("x").as_int(), int64_t{5});
  // Positions are relative to each decode's own input.
  CHECK_EQ(body.value.find("x").pos(), 3u);
}

TEST(cbor_tape_is_reused_without_growth) {
  Bytes b = unhex("83 01 02 83 03 04 05");
  cbor::Decoder d;
  REQUIRE(d.decode(b).ok());
  size_t used = d.tape_size();
  CHECK_EQ(used, size_t{7});
  d.clear();
  CHECK_EQ(d.tape_size(), size_t{0});
  REQUIRE(d.decode(b).ok());
  CHECK_EQ(d.tape_size(), used);
}

TEST(cbor_validate_helper) {
  CHECK_EQ(cbor::validate(unhex("a1 61 61 f5")), cbor::Error::ok);
  uint32_t off = 0;
  CHECK_EQ(cbor::validate(unhex("82 01 f7"), &off), cbor::Error::simple_value_not_allowed);
  CHECK_EQ(off, 2u);
}

TEST(cbor_accepts_valid_utf8_edges) {
  // U+007F, U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF, and a long ASCII run.
  Bytes b;
  cbor::Encoder e(b);
  std::string s = "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
  s += std::string(40, 'a') + "\xc3\xa9";
  e.text(s);
  cbor::Decoder d;
  auto r = d.decode(b);
  REQUIRE(r.ok());
  CHECK_EQ(std::string(*r.value.as_text()), s);
  // The same with one continuation byte dropped is rejected.
  Bytes bad = b;
  bad.erase(bad.end() - 1);
  bad[1] = static_cast<uint8_t>(bad[1] - 1);
  CHECK_EQ(decode_error(bad), cbor::Error::invalid_utf8);
}
