// SPDX-License-Identifier: MIT
#include "mst/key.h"

#include <string>

#include "harness.h"
#include "json.h"

using namespace ringlay;
using namespace ringlay::test;

namespace {

std::string interop(const char* file) {
  const std::string dir = shared_dir();
  return dir.empty() ? "" : dir + "/atproto/interop/mst/" + file;
}

}  // namespace

TEST(mst_key_heights_fixture) {
  const std::string path = interop("key_heights.json");
  if (path.empty()) return skip("../shared/atproto absent");
  Json cases;
  REQUIRE(load_json(path, cases));
  REQUIRE(cases.size() == 9);
  for (const Json& c : cases.items) {
    CHECK_EQ(mst::key_height(c["key"].str), static_cast<int>(c["height"].as_int()));
  }
}

TEST(mst_key_height_examples) {
  CHECK_EQ(mst::key_height(""), 0);
  CHECK_EQ(mst::key_height("blue"), 1);
  CHECK_EQ(mst::key_height("app.bsky.feed.post/9adeb165882c"), 8);
}

TEST(mst_common_prefix_fixture) {
  const std::string path = interop("common_prefix.json");
  if (path.empty()) return skip("../shared/atproto absent");
  Json cases;
  REQUIRE(load_json(path, cases));
  REQUIRE(cases.size() == 13);
  for (const Json& c : cases.items) {
    CHECK_EQ(mst::common_prefix_len(c["left"].str, c["right"].str),
             static_cast<size_t>(c["len"].as_int()));
  }
}

// Keys "<Letter><h>/<digits>" carry their own height in the digit after the letter.
TEST(mst_example_keys_heights) {
  const std::string path = interop("example_keys.txt");
  if (path.empty()) return skip("../shared/atproto absent");
  std::string text;
  REQUIRE(read_file(path, text));
  const auto keys = fixture_lines(text);
  REQUIRE(keys.size() == 156);
  for (const std::string& k : keys) {
    REQUIRE(k.size() > 2 && k[1] >= '0' && k[1] <= '9');
    CHECK_EQ(mst::key_height(k), k[1] - '0');
    CHECK(mst::is_valid_key(k));
  }
}

TEST(mst_key_validity) {
  CHECK(mst::is_valid_key("com.example.record/3jqfcqzm3fo2j"));
  CHECK(mst::is_valid_key("app.bsky.actor.profile/self"));
  CHECK(mst::is_valid_key("a/b"));
  CHECK(mst::is_valid_key("coll/rkey:with~chars_.-"));
  CHECK(!mst::is_valid_key(""));
  CHECK(!mst::is_valid_key("nocollection"));
  CHECK(!mst::is_valid_key("/rkey"));
  CHECK(!mst::is_valid_key("coll/"));
  CHECK(!mst::is_valid_key("a/b/c"));
  CHECK(!mst::is_valid_key("coll/r key"));
  CHECK(!mst::is_valid_key(" coll/rkey"));
  CHECK(!mst::is_valid_key("coll/jalape\xc3\xb1o"));
  CHECK(!mst::is_valid_key(std::string("coll/abc\0", 9)));
  const std::string longest = "c/" + std::string(mst::kMaxKeyBytes - 2, 'x');
  CHECK(mst::is_valid_key(longest));
  CHECK(!mst::is_valid_key(longest + "x"));
}
