// SPDX-License-Identifier: MIT
#include <algorithm>
#include <string>
#include <vector>

#include "cbor/atjson.h"
#include "cbor/decoder.h"
#include "cbor/encoder.h"
#include "harness.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::unhex;

TEST(cbor_value_access) {
  // {"a": 1, "bb": [true, null, "x"], "ccc": -5, "link": 42(cid)}
  Bytes cidb = unhex("01711220") ;
  cidb.resize(36, 0xab);
  Bytes b;
  cbor::Encoder e(b);
  e.map(4);
  e.key("a"); e.int64(1);
  e.key("bb"); e.array(3); e.boolean(true); e.null(); e.text("x");
  e.key("ccc"); e.int64(-5);
  e.key("link"); e.link(cid::CidView::unchecked(cidb.data(), cidb.size()));
  e.finish();
  cbor::Decoder d;
  cbor::Result r = d.decode(b);
  REQUIRE(r.ok());
  cbor::Value m = r.value;
  CHECK(m.is_map());
  CHECK_EQ(m.size(), 4u);
  CHECK_EQ(*m.find("a").as_int(), int64_t{1});
  CHECK_EQ(*m.find("ccc").as_int(), int64_t{-5});
  CHECK(!m.find("zz").exists());
  CHECK(!m.find("a").as_text());
  CHECK(!m.find("zz").find("a").exists());  // missing values answer "absent", never crash
  cbor::Value arr = m.find("bb");
  CHECK_EQ(arr.size(), 3u);
  CHECK_EQ(*arr.at(0).as_bool(), true);
  CHECK(arr.at(1).is_null());
  CHECK_EQ(std::string(*arr.at(2).as_text()), std::string("x"));
  CHECK(!arr.at(3).exists());
  CHECK_EQ(std::string(m.key(3)), std::string("link"));
  auto link = m.find("link").as_link();
  REQUIRE(link.has_value());
  CHECK(link->is_blessed_dag_cbor());
  CHECK(link->data() == b.data() + b.size() - 36);  // zero-copy: points into the input
  // Source spans: the array's bytes are exactly its encoding.
  CHECK_EQ(test::to_hex({b.data() + arr.pos(), arr.end_pos() - arr.pos()}), std::string("83f5f66178"));
}

TEST(cbor_map_lookup_uses_canonical_order) {
  // 40 keys of mixed lengths: every one is found by binary search, absent ones are not.
  std::vector<std::string> keys;
  for (int i = 0; i < 40; i++) keys.push_back(std::string(1 + i % 5, static_cast<char>('a' + i / 5)));
  std::sort(keys.begin(), keys.end(), cbor::key_less);
  Bytes b;
  cbor::Encoder e(b);
  e.map(static_cast<uint32_t>(keys.size()));
  for (size_t i = 0; i < keys.size(); i++) {
    e.key(keys[i]);
    e.int64(static_cast<int64_t>(i));
  }
  cbor::Decoder d;
  cbor::Result r = d.decode(b);
  REQUIRE(r.ok());
  for (size_t i = 0; i < keys.size(); i++) CHECK_EQ(*r.value.find(keys[i]).as_int(), int64_t(i));
  CHECK(!r.value.find("zzzzzz").exists());
  CHECK(!r.value.find("").exists());
  CHECK(!r.value.find("ab").exists());
}

TEST(cbor_value_end_pos_and_key_items) {
  // {"a": [1, -300, h'0102'], "bb": {"c": null}} — every item's [pos, end_pos) is its encoding.
  Bytes b = unhex("a2 61 61 83 01 39 01 2b 42 01 02 62 62 62 a1 61 63 f6");
  cbor::Decoder d;
  cbor::Result r = d.decode(b);
  REQUIRE(r.ok());
  cbor::Value a = r.value.find("a");
  CHECK_EQ(a.pos(), 3u);
  CHECK_EQ(a.end_pos(), 11u);
  CHECK_EQ(a.at(1).pos(), 5u);
  CHECK_EQ(a.at(1).end_pos(), 8u);
  CHECK_EQ(*a.at(1).as_int(), int64_t{-300});
  CHECK_EQ(a.at(2).end_pos(), 11u);
  CHECK_EQ(r.value.key_item(1).pos(), 11u);
  CHECK_EQ(std::string(*r.value.key_item(1).as_text()), std::string("bb"));
  CHECK_EQ(r.value.find("bb").end_pos(), uint32_t(b.size()));
  CHECK(!r.value.key_item(2).exists());
  CHECK_EQ(cbor::Value().end_pos(), 0u);
  CHECK_EQ(std::string(cbor::name(r.value.find("bb").find("c").kind())), std::string("null"));
}
