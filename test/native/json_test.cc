// SPDX-License-Identifier: MIT
#include "harness.h"
#include "json.h"

using ringlay::test::Json;

TEST(json_reads_fixture_shapes) {
  Json j;
  std::string err;
  REQUIRE(ringlay::test::parse_json(R"({"a":[1,"x\u00e9",true,null],"b":{"c":-2.5}})", j, &err));
  CHECK_EQ(j["a"].size(), size_t{4});
  CHECK_EQ(j["a"][1].str, std::string("x\xc3\xa9"));
  CHECK_EQ(j["b"]["c"].num, -2.5);
  CHECK(j["missing"].is_null());
  CHECK(!ringlay::test::parse_json("{\"a\":1,}", j, &err));
  std::string bytes;
  CHECK(ringlay::test::base64_decode("aGVsbG8", bytes));
  CHECK_EQ(bytes, std::string("hello"));
}

TEST(json_loads_shared_fixture) {
  std::string dir = ringlay::test::shared_dir();
  if (dir.empty()) return ringlay::test::skip("../shared/atproto not found");
  Json j;
  std::string err;
  REQUIRE(ringlay::test::load_json(dir + "/atproto/interop/mst/key_heights.json", j, &err));
  CHECK(j.size() > 0);
}
