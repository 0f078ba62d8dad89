// SPDX-License-Identifier: MIT
#include "cbor/encoder.h"

#include <string>

#include "cbor/atjson.h"
#include "car/car.h"
#include "harness.h"
#include "json.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::to_hex;
using ringlay::test::unhex;

TEST(cbor_encoder_writes_canonical_frame_headers) {
  // Bytes from protocol.md §1.2 / §1.4 (checked against the reference encoders).
  Bytes b;
  cbor::Encoder e(b);
  e.map(2);
  e.key("t"); e.text("#commit");
  e.key("op"); e.int64(1);
  e.finish();
  CHECK_EQ(to_hex(b), to_hex(unhex("a2 61 74 67 23 63 6f 6d 6d 69 74 62 6f 70 01")));
  b.clear();
  cbor::Encoder info(b);
  info.map(2);
  info.key("t"); info.text("#info");
  info.key("op"); info.int64(1);
  CHECK_EQ(to_hex(b), to_hex(unhex("a2 61 74 65 23 69 6e 66 6f 62 6f 70 01")));
  b.clear();
  cbor::Encoder err(b);
  err.map(1);
  err.key("op"); err.int64(-1);
  CHECK_EQ(to_hex(b), to_hex(unhex("a1 62 6f 70 20")));
  b.clear();
  cbor::Encoder body(b);
  body.map(2);
  body.key("error"); body.text("FutureCursor");
  body.key("message"); body.text("Cursor in the future.");
  body.finish();
  CHECK(to_hex(b).rfind(to_hex(unhex("a2 65 65 72 72 6f 72 6c 46 75 74 75 72 65 43 75 72 73 6f 72 67 6d 65 73 73 61 67 65 75")), 0) == 0);
}

TEST(cbor_encoder_heads_are_minimal) {
  struct Case {
    uint64_t v;
    const char* hex;
  } cases[] = {{0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"},
               {65535, "19ffff"}, {65536, "1a00010000"}, {4294967295u, "1affffffff"},
               {4294967296u, "1b0000000100000000"}};
  for (const Case& c : cases) {
    Bytes b;
    cbor::Encoder e(b);
    e.uint64(c.v);
    CHECK_EQ(to_hex(b), std::string(c.hex));
    CHECK_EQ(cbor::head_size(c.v), b.size());
  }
  Bytes b;
  cbor::Encoder e(b);
  e.int64(-1);
  e.int64(-24);
  e.int64(-25);
  e.int64(-256);
  e.int64(-257);
  CHECK_EQ(to_hex(b), std::string("20" "37" "3818" "38ff" "390100"));
}

TEST(cbor_encoder_nested_containers_and_links) {
  cid::Cid c;
  REQUIRE(cid::parse_string("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a", &c) ==
          cid::Error::ok);
  Bytes b;
  cbor::Encoder e(b);
  e.map(2);
  e.key("e");
  e.array(2);
  e.map(1);
  e.key("k"); e.bytes(Bytes{1, 2});
  e.array(0);
  e.key("l"); e.link(c);
  CHECK_EQ(e.depth(), size_t{0});
  e.finish();
  // The result decodes strictly and reads back.
  cbor::Decoder d;
  cbor::Result r = d.decode(b);
  REQUIRE(r.ok());
  CHECK(*r.value.find("l").as_link() == c.view());
  CHECK_EQ(r.value.find("e").size(), 2u);
  CHECK_EQ(r.value.find("e").at(1).size(), 0u);
  // tag 42 bytes: d8 2a 58 25 00 01 71 12 20 …
  CHECK(to_hex(b).find("d82a58250001711220") != std::string::npos);
}

TEST(cbor_encode_map_without_gives_unsigned_commit) {
  std::string dir = test::shared_dir();
  if (dir.empty()) return test::skip("../shared/atproto not found");
  test::Json msg;
  REQUIRE(test::load_json(dir + "/atproto/indigo-captures/firehose_commit_4623075231.json", msg));
  std::string car_bytes;
  REQUIRE(test::base64_decode(msg["blocks"]["$bytes"].str, car_bytes));
  car::Reader car;
  REQUIRE(car.parse(test::span_of(car_bytes)) == car::Error::ok);
  auto block = car.find(car.roots()[0]);
  REQUIRE(block.has_value());
  cbor::Decoder d;
  cbor::Result r = d.decode(*block);
  REQUIRE(r.ok());
  Bytes unsigned_bytes;
  REQUIRE(cbor::encode_map_without(r.value, *block, "sig", unsigned_bytes));
  // Same as re-encoding every entry but sig.
  Bytes expect;
  cbor::Encoder e(expect);
  e.map(r.value.size() - 1);
  for (uint32_t i = 0; i < r.value.size(); i++) {
    if (r.value.key(i) == "sig") continue;
    e.key(r.value.key(i));
    e.value(r.value.value(i));
  }
  e.finish();
  CHECK_EQ(to_hex(unsigned_bytes), to_hex(expect));
  CHECK_EQ(unsigned_bytes.size(), block->size() - 4 - 2 - 64);  // "sig" key, bytes(64) head, signature
  Bytes none;
  CHECK(!cbor::encode_map_without(r.value, *block, "nope", none));
  CHECK(none.empty());
}
