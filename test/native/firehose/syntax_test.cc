// SPDX-License-Identifier: MIT
#include "firehose/syntax.h"

#include <string>

#include "harness.h"
#include "json.h"

using namespace ringlay;

namespace {

using Validator = bool (*)(std::string_view);

// Runs every line of <kind>_syntax_{valid,invalid}.txt through `valid`; returns cases seen.
int run_fixture(const std::string& file, Validator valid, bool expect) {
  std::string text;
  std::string path = test::shared_dir() + "/atproto/interop/syntax/" + file;
  if (!test::read_file(path, text)) {
    test::fail(__FILE__, __LINE__, "cannot read " + path);
    return 0;
  }
  int n = 0;
  for (const std::string& line : test::fixture_lines(text)) {
    n++;
    if (valid(line) != expect) {
      test::fail(__FILE__, __LINE__, file + ": " + (expect ? "rejected " : "accepted ") + "\"" +
                                         line.substr(0, 80) + "\"");
    }
  }
  return n;
}

bool tid_ok(std::string_view s) { return firehose::valid_tid(s); }

}  // namespace

TEST(syntax_fixtures) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto not found");
  struct Kind {
    const char* name;
    Validator valid;
  } kinds[] = {
      {"did", firehose::valid_did},
      {"handle", firehose::valid_handle},
      {"nsid", firehose::valid_nsid},
      {"tid", tid_ok},
      {"recordkey", firehose::valid_record_key},
      {"datetime", firehose::valid_datetime},
  };
  for (const Kind& k : kinds) {
    CHECK(run_fixture(std::string(k.name) + "_syntax_valid.txt", k.valid, true) > 0);
    CHECK(run_fixture(std::string(k.name) + "_syntax_invalid.txt", k.valid, false) > 0);
  }
  CHECK(run_fixture("tid_syntax_valid.atproto-repo-copy.txt", tid_ok, true) >= 6);
  CHECK(run_fixture("datetime_parse_invalid.txt", firehose::valid_datetime, false) > 0);
}

TEST(syntax_tid_micros) {
  // 11 timestamp characters, then 2 clock-id characters.
  CHECK_EQ(*firehose::tid_micros("2222222222222"), int64_t{0});
  CHECK_EQ(*firehose::tid_micros("2222222222232"), int64_t{0});   // clock id 1
  CHECK_EQ(*firehose::tid_micros("2222222222322"), int64_t{1});
  CHECK_EQ(*firehose::tid_micros("22222222223zz"), int64_t{1});
  CHECK_EQ(*firehose::tid_micros("jzzzzzzzzzzzz"), (int64_t{1} << 54) - 1);
  CHECK(!firehose::tid_micros("kzzzzzzzzzzzz"));  // top bit set
  // TIDs sort like their timestamps: a real rev from 2025 lies in 2025.
  int64_t us = *firehose::tid_micros("3lhhxizu5wr2d");
  int64_t y2025 = *firehose::datetime_micros("2025-01-01T00:00:00Z");
  int64_t y2026 = *firehose::datetime_micros("2026-01-01T00:00:00Z");
  CHECK(us > y2025 && us < y2026);
}

TEST(syntax_datetime_micros) {
  CHECK_EQ(*firehose::datetime_micros("1970-01-01T00:00:00Z"), int64_t{0});
  CHECK_EQ(*firehose::datetime_micros("1970-01-01T00:00:01.5Z"), int64_t{1500000});
  CHECK_EQ(*firehose::datetime_micros("1970-01-01T01:00:00+01:00"), int64_t{0});
  CHECK_EQ(*firehose::datetime_micros("2000-02-29T00:00:00.123456789Z"), int64_t{951782400123456});
  CHECK(!firehose::datetime_micros("2001-02-29T00:00:00Z"));
  CHECK(!firehose::datetime_micros("1985-04-12T23:20:50.123-00:00"));
  CHECK(!firehose::datetime_micros("0000-01-01T00:00:00+01:00"));
  CHECK(firehose::datetime_micros("0000-01-01T00:00:00-01:00").has_value());
}

TEST(syntax_repo_paths_and_edges) {
  CHECK(firehose::valid_repo_path("app.bsky.feed.post/3lhhvdkcby3e2"));
  CHECK(firehose::valid_repo_path("app.bsky.actor.profile/self"));
  CHECK(!firehose::valid_repo_path("app.bsky.feed.post/"));
  CHECK(!firehose::valid_repo_path("/3lhh"));
  CHECK(!firehose::valid_repo_path("app.bsky.feed.post/a/b"));
  CHECK(!firehose::valid_repo_path("app.bsky.feed.post/.."));
  CHECK(!firehose::valid_repo_path("app/abc"));
  CHECK(firehose::valid_did("did:plc:abc"));
  CHECK(!firehose::valid_did("did:plc:"));
  CHECK(!firehose::valid_did("did::abc"));
  CHECK(!firehose::valid_did(std::string("did:web:") + std::string(2041, 'a')));
  CHECK(firehose::valid_did(std::string("did:web:") + std::string(2040, 'a')));
  CHECK(firehose::valid_handle("handle.invalid"));
  CHECK(!firehose::valid_handle("localhost"));
  CHECK(!firehose::valid_handle("a.1com"));
  CHECK(!firehose::valid_nsid("com.example"));
  CHECK(firehose::valid_nsid("com.example.fooBar"));
  CHECK(!firehose::valid_nsid("com.example.foo-bar"));
}
