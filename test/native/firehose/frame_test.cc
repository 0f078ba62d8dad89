// SPDX-License-Identifier: MIT
#include "firehose/frame.h"

#include <string>

#include "car/car.h"
#include "cbor/encoder.h"
#include "firehose/frames.h"
#include "harness.h"
#include "util/assert.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::concat;
using ringlay::test::header_bytes;
using ringlay::test::json;

namespace {

const char* kCaptures[] = {"4621317030", "4621317332", "4621332152", "4623075231"};

std::string parse_reason(const Bytes& b, firehose::Frame* f = nullptr, const firehose::Limits& l = {}) {
  firehose::Parser p(l);
  firehose::Frame scratch;
  return firehose::name(p.parse(b, f != nullptr ? f : &scratch));
}

Bytes body(std::string_view json_text) {
  Bytes b;
  RL_ASSERT(test::encode_atjson(json(json_text), b));
  return b;
}

std::string str(std::string_view s) { return std::string(s); }

}  // namespace

TEST(frame_parses_captured_commits_and_their_cars) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto not found");
  firehose::Parser p;
  car::Reader car;
  cbor::Decoder dec;
  for (const char* seq : kCaptures) {
    test::Json msg;
    Bytes frame = test::capture_frame(seq, &msg);
    REQUIRE(!frame.empty());
    firehose::Frame f;
    REQUIRE(CHECK_EQ(str(firehose::name(p.parse(frame, &f))), str("ok")));
    CHECK_EQ(f.type, firehose::Type::commit);
    CHECK_EQ(str(f.t), str("#commit"));
    CHECK_EQ(f.body_offset, 15u);
    CHECK_EQ(f.seq, std::stoll(seq));
    CHECK_EQ(str(f.did), msg["repo"].str);
    CHECK_EQ(str(f.rev), msg["rev"].str);
    CHECK_EQ(f.since.has_value(), !msg["since"].is_null());
    if (f.since) CHECK_EQ(str(*f.since), msg["since"].str);
    CHECK_EQ(str(f.time), msg["time"].str);
    CHECK_EQ(cid::to_string(f.commit), msg["commit"]["$link"].str);
    CHECK(f.prev_data.empty());  // pre-Sync-1.1 captures
    CHECK(!f.too_big);
    CHECK(!f.rebase);
    CHECK_EQ(f.blobs, 0u);  // "blobs": null
    REQUIRE(f.ops.size() == msg["ops"].size());
    for (size_t i = 0; i < f.ops.size(); i++) {
      CHECK_EQ(f.ops[i].action, firehose::Action::create);
      CHECK_EQ(str(f.ops[i].path), msg["ops"][i]["path"].str);
      CHECK_EQ(cid::to_string(f.ops[i].cid), msg["ops"][i]["cid"]["$link"].str);
      CHECK(f.ops[i].prev.empty());
    }
    CHECK_EQ(firehose::check_ops(f, false), firehose::Error::ok);
    CHECK_EQ(firehose::check_syntax(f), firehose::Error::ok);
    // Blocks are a zero-copy span of the frame; the CAR verifies and roots[0] is the commit.
    CHECK(f.blocks.data() > frame.data() && f.blocks.data() + f.blocks.size() <= frame.data() + frame.size());
    REQUIRE(CHECK_EQ(str(car::name(car.parse(f.blocks))), str("ok")));
    REQUIRE(!car.roots().empty());
    CHECK(car.roots()[0] == f.commit);
    auto commit_block = car.find(f.commit);
    REQUIRE(commit_block.has_value());
    dec.clear();
    cbor::Result c = dec.decode(*commit_block);
    REQUIRE(c.ok());
    CHECK_EQ(str(*c.value.find("did").as_text()), str(f.did));
    CHECK_EQ(str(*c.value.find("rev").as_text()), str(f.rev));
    CHECK_EQ(c.value.find("sig").as_bytes()->size(), size_t{64});
    CHECK_EQ(*c.value.find("version").as_int(), int64_t{3});
    // The seq location points at the seq integer inside the frame.
    cbor::Decoder sd;
    size_t end = 0;
    auto sv = sd.decode_prefix({frame.data() + f.seq_location.offset, f.seq_location.size}, &end);
    REQUIRE(sv.ok());
    CHECK_EQ(*sv.value.as_int(), f.seq);
  }
}

TEST(frame_parses_every_scenario_message) {
  std::string dir = test::shared_dir();
  if (dir.empty()) return test::skip("../shared/atproto not found");
  const char* files[] = {"account_lifecycle", "deactivation", "legacy", "post_lifecycle",
                         "post_lifecycle_legacy", "rev_ordering", "seq_ordering"};
  firehose::Parser p;
  int types[7] = {};
  for (const char* file : files) {
    test::Json s;
    REQUIRE(test::load_json(dir + "/atproto/indigo-scenarios/" + file + ".json", s));
    for (size_t i = 0; i < s["messages"].size(); i++) {
      const test::Json& fr = s["messages"][i]["frame"];
      Bytes frame = test::frame_from_json(fr["header"], fr["body"]);
      firehose::Frame f;
      REQUIRE(CHECK_EQ(str(firehose::name(p.parse(frame, &f))), str("ok")));
      types[static_cast<int>(f.type)]++;
      CHECK_EQ(f.seq, fr["body"]["seq"].as_int());
      CHECK_EQ(str(f.did), fr["body"].has("repo") ? fr["body"]["repo"].str : fr["body"]["did"].str);
      if (f.type == firehose::Type::commit && fr["body"].has("prevData")) CHECK(!f.prev_data.empty());
      // The one syntactically bad message in the set: a rev with a '0' (not a TID character).
      bool bad_rev = fr["body"]["rev"].str == "3lmxjza3nva00";
      CHECK_EQ(firehose::check_syntax(f), bad_rev ? firehose::Error::bad_rev : firehose::Error::ok);
    }
  }
  CHECK(types[static_cast<int>(firehose::Type::commit)] > 0);
  CHECK(types[static_cast<int>(firehose::Type::sync)] > 0);
  CHECK(types[static_cast<int>(firehose::Type::identity)] > 0);
  CHECK(types[static_cast<int>(firehose::Type::account)] > 0);
}

TEST(frame_message_types) {
  firehose::Frame f;
  Bytes sync = concat(header_bytes(1, "#sync"),
                      body(R"({"seq":7,"did":"did:plc:abc","rev":"3lmxjza3nva27","blocks":{"$bytes":"AAEC"},"time":"2025-01-01T00:00:00Z"})"));
  REQUIRE(parse_reason(sync, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::sync);
  CHECK_EQ(f.seq, int64_t{7});
  CHECK_EQ(f.blocks.size(), size_t{3});
  CHECK_EQ(str(f.rev), str("3lmxjza3nva27"));

  Bytes ident = concat(header_bytes(1, "#identity"),
                       body(R"({"seq":8,"did":"did:plc:abc","time":"2025-01-01T00:00:00Z","handle":"a.test"})"));
  REQUIRE(parse_reason(ident, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::identity);
  REQUIRE(f.handle.has_value());
  CHECK_EQ(str(*f.handle), str("a.test"));
  Bytes ident_nohandle = concat(header_bytes(1, "#identity"),
                                body(R"({"seq":8,"did":"did:plc:abc","time":"2025-01-01T00:00:00Z"})"));
  REQUIRE(parse_reason(ident_nohandle, &f) == "ok");
  CHECK(!f.handle.has_value());

  Bytes acct = concat(header_bytes(1, "#account"),
                      body(R"({"seq":9,"did":"did:plc:abc","time":"2025-01-01T00:00:00Z","active":false,"status":"takendown"})"));
  REQUIRE(parse_reason(acct, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::account);
  CHECK(!f.active);
  CHECK_EQ(str(f.status.value_or("")), str("takendown"));

  Bytes info = concat(header_bytes(1, "#info"), body(R"({"name":"OutdatedCursor","message":"old"})"));
  REQUIRE(parse_reason(info, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::info);
  CHECK(!f.has_seq);
  CHECK_EQ(f.seq_location.size, 0u);
  CHECK_EQ(str(f.name), str("OutdatedCursor"));
  CHECK_EQ(str(f.message.value_or("")), str("old"));

  Bytes err = concat(header_bytes(-1, ""), body(R"({"error":"FutureCursor"})"));
  REQUIRE(parse_reason(err, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::error);
  CHECK_EQ(f.op, int64_t{-1});
  CHECK_EQ(str(f.name), str("FutureCursor"));
  CHECK(!f.message.has_value());
  // Go's relay writes {"t": "", "op": -1}.
  Bytes go_err = concat(header_bytes(-1, "", true), body(R"({"error":"ConsumerTooSlow","message":"x"})"));
  REQUIRE(parse_reason(go_err, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::error);
  CHECK_EQ(str(f.name), str("ConsumerTooSlow"));

  // Unknown types are reported, not errors; removed types (#handle) are unknown too.
  Bytes unknown = concat(header_bytes(1, "#handle"), body(R"({"seq":1,"did":"did:plc:abc","handle":"x.test"})"));
  REQUIRE(parse_reason(unknown, &f) == "ok");
  CHECK_EQ(f.type, firehose::Type::unknown);
  CHECK_EQ(str(f.t), str("#handle"));
  CHECK(!f.has_seq);
}

TEST(frame_ignores_unknown_fields_and_accepts_legacy_shapes) {
  firehose::Frame f;
  // Extra fields, legacy `prev`, missing deprecated fields, prevData null, op prev.
  Bytes commit = concat(header_bytes(1, "#commit"), body(R"({
      "seq":1,"repo":"did:plc:abc","rev":"3lmxjza3nva27","since":null,
      "commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},
      "blocks":{"$bytes":""},"ops":[
        {"action":"update","path":"app.bsky.feed.post/abc","cid":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},
         "prev":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"}, "extra": 1},
        {"action":"delete","path":"app.bsky.feed.post/abd","cid":null}],
      "time":"2025-01-01T00:00:00Z","prev":null,"prevData":null,"futureField":{"a":[1,2]}})"));
  firehose::Parser p;  // f.ops lives in the parser: keep it alive while reading them
  REQUIRE(p.parse(commit, &f) == firehose::Error::ok);
  CHECK(!f.since.has_value());
  CHECK(f.prev_data.empty());
  CHECK_EQ(f.blobs, 0u);
  REQUIRE(f.ops.size() == 2);
  CHECK_EQ(f.ops[0].action, firehose::Action::update);
  CHECK(!f.ops[0].prev.empty());
  CHECK_EQ(f.ops[1].action, firehose::Action::delete_);
  CHECK(f.ops[1].cid.empty());
  CHECK_EQ(firehose::check_ops(f, false), firehose::Error::ok);
  size_t index = 99;
  CHECK_EQ(firehose::check_ops(f, true, &index), firehose::Error::op_missing_prev);
  CHECK_EQ(index, size_t{1});
}

TEST(frame_header_and_framing_errors) {
  Bytes ok_body = body(R"({"name":"x"})");
  CHECK_EQ(parse_reason(concat(test::unhex("01"), ok_body)), str("header_not_map"));
  CHECK_EQ(parse_reason(concat(body(R"({"t":"#info"})"), ok_body)), str("bad_header_op"));
  CHECK_EQ(parse_reason(concat(body(R"({"t":"#info","op":"1"})"), ok_body)), str("bad_header_op"));
  CHECK_EQ(parse_reason(concat(header_bytes(2, "#info"), ok_body)), str("unknown_op"));
  CHECK_EQ(parse_reason(concat(header_bytes(1, ""), ok_body)), str("missing_type"));
  CHECK_EQ(parse_reason(concat(body(R"({"t":5,"op":1})"), ok_body)), str("missing_type"));
  CHECK_EQ(parse_reason(header_bytes(1, "#info")), str("missing_body"));
  CHECK_EQ(parse_reason(concat(header_bytes(1, "#info"), test::unhex("01"))), str("body_not_map"));
  // A third item, or junk after the body, is malformed framing.
  firehose::Parser p;
  firehose::Frame f;
  Bytes three = concat(concat(header_bytes(1, "#info"), ok_body), test::unhex("00"));
  CHECK_EQ(p.parse(three, &f), firehose::Error::bad_body_cbor);
  CHECK_EQ(p.cbor_error(), cbor::Error::trailing_bytes);
  CHECK_EQ(p.error_offset(), uint32_t(three.size() - 1));
  Bytes bad_header = concat(test::unhex("a1 62 6f 70 f7"), ok_body);
  CHECK_EQ(p.parse(bad_header, &f), firehose::Error::bad_header_cbor);
  CHECK_EQ(p.cbor_error(), cbor::Error::simple_value_not_allowed);
  Bytes bad_body = concat(header_bytes(1, "#info"), test::unhex("a1 64 6e 61 6d 65 fa 00 00 00 00"));
  CHECK_EQ(p.parse(bad_body, &f), firehose::Error::bad_body_cbor);
  CHECK_EQ(p.cbor_error(), cbor::Error::float_not_allowed);
}

TEST(frame_required_fields_are_named) {
  firehose::Parser p;
  firehose::Frame f;
  struct Case {
    const char* t;
    const char* body;
    const char* reason;
    const char* field;
  } cases[] = {
      {"#account", R"({"did":"did:plc:a","time":"t","active":true})", "missing_field", "seq"},
      {"#account", R"({"seq":"1","did":"did:plc:a","time":"t","active":true})", "wrong_field_type", "seq"},
      {"#account", R"({"seq":-1,"did":"did:plc:a","time":"t","active":true})", "seq_out_of_range", "seq"},
      {"#account", R"({"seq":9007199254740992,"did":"d","time":"t","active":true})", "seq_out_of_range", "seq"},
      {"#account", R"({"seq":1,"did":"did:plc:a","time":"t"})", "missing_field", "active"},
      {"#account", R"({"seq":1,"did":"did:plc:a","time":"t","active":1})", "wrong_field_type", "active"},
      {"#account", R"({"seq":1,"did":"did:plc:a","time":"t","active":true,"status":5})", "wrong_field_type", "status"},
      {"#identity", R"({"seq":1,"time":"t"})", "missing_field", "did"},
      {"#identity", R"({"seq":1,"did":"d","time":"t","handle":[]})", "wrong_field_type", "handle"},
      {"#sync", R"({"seq":1,"did":"d","rev":"r","time":"t"})", "missing_field", "blocks"},
      {"#sync", R"({"seq":1,"did":"d","rev":"r","time":"t","blocks":"x"})", "wrong_field_type", "blocks"},
      {"#info", R"({"message":"m"})", "missing_field", "name"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"blocks":{"$bytes":""},"ops":[],"time":"t"})", "missing_field", "commit"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"commit":"x","blocks":{"$bytes":""},"ops":[],"time":"t"})", "wrong_field_type", "commit"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"ops":[],"time":"t"})", "missing_field", "since"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"time":"t"})", "missing_field", "ops"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"ops":[],"time":"t","tooBig":0})", "wrong_field_type", "tooBig"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"ops":[{"action":"move","path":"a/b","cid":null}],"time":"t"})", "bad_op_action", "ops.action"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"ops":[{"action":"delete","path":"a/b"}],"time":"t"})", "missing_field", "ops.cid"},
      {"#commit", R"({"seq":1,"repo":"d","rev":"r","since":null,"commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"ops":[5],"time":"t"})", "wrong_field_type", "ops"},
  };
  for (const Case& c : cases) {
    Bytes frame = concat(header_bytes(1, c.t), body(c.body));
    std::string got = firehose::name(p.parse(frame, &f));
    if (!CHECK_EQ(got, str(c.reason)) || !CHECK_EQ(str(p.field()), str(c.field))) {
      test::fail(__FILE__, __LINE__, std::string("case: ") + c.body);
    }
  }
}

TEST(frame_size_limits) {
  auto commit_with = [](size_t blocks, size_t ops) {
    Bytes b;
    cbor::Encoder e(b);
    e.map(9);
    e.key("ops");
    e.array(static_cast<uint32_t>(ops));
    for (size_t i = 0; i < ops; i++) {
      e.map(3);
      e.key("cid"); e.null();
      e.key("path"); e.text("app.bsky.feed.post/a");
      e.key("action"); e.text("delete");
    }
    e.key("rev"); e.text("3lmxjza3nva27");
    e.key("seq"); e.int64(1);
    e.key("repo"); e.text("did:plc:abc");
    e.key("time"); e.text("2025-01-01T00:00:00Z");
    e.key("since"); e.null();
    e.key("blocks"); e.bytes(Bytes(blocks, 0));
    e.key("commit"); e.link(cid::compute_dag_cbor(Bytes{1}));
    e.key("tooBig"); e.boolean(false);
    e.finish();
    return concat(header_bytes(1, "#commit"), b);
  };
  CHECK_EQ(parse_reason(commit_with(2000000, 200)), str("ok"));
  CHECK_EQ(parse_reason(commit_with(2000001, 0)), str("blocks_too_large"));
  CHECK_EQ(parse_reason(commit_with(10, 201)), str("too_many_ops"));
  Bytes sync_ok = concat(header_bytes(1, "#sync"), [] {
    Bytes b;
    cbor::Encoder e(b);
    e.map(5);
    e.key("did"); e.text("did:plc:abc");
    e.key("rev"); e.text("3lmxjza3nva27");
    e.key("seq"); e.int64(1);
    e.key("time"); e.text("t");
    e.key("blocks"); e.bytes(Bytes(10000, 0));
    return b;
  }());
  CHECK_EQ(parse_reason(sync_ok), str("ok"));
  Bytes sync_big = sync_ok;
  // Grow the blocks by one byte: head 59 27 10 → 59 27 11.
  sync_big.push_back(0);
  for (size_t i = 0; i + 2 < sync_big.size(); i++) {
    if (sync_big[i] == 0x59 && sync_big[i + 1] == 0x27 && sync_big[i + 2] == 0x10) {
      sync_big[i + 2] = 0x11;
      break;
    }
  }
  CHECK_EQ(parse_reason(sync_big), str("blocks_too_large"));
  // Whole frame over 5,000,000 bytes: rejected before decoding.
  Bytes huge(5000001, 0);
  CHECK_EQ(parse_reason(huge), str("frame_too_large"));
  firehose::Limits tight;
  tight.max_frame = 100;
  CHECK_EQ(parse_reason(commit_with(200, 0), nullptr, tight), str("frame_too_large"));
}

TEST(frame_op_rules) {
  auto with_op = [](const char* op_json) {
    std::string b = R"({"seq":1,"repo":"did:plc:abc","rev":"3lmxjza3nva27","since":null,)"
                    R"("commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},)"
                    R"("blocks":{"$bytes":""},"time":"2025-01-01T00:00:00Z","ops":[)" +
                    std::string(op_json) + "]}";
    return concat(header_bytes(1, "#commit"), body(b));
  };
  const char* cid = R"({"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"})";
  auto op = [&](const char* action, bool has_cid, bool has_prev, const char* path = "app.bsky.feed.post/3k") {
    std::string s = std::string(R"({"action":")") + action + R"(","path":")" + path + R"(","cid":)" +
                    (has_cid ? cid : "null");
    if (has_prev) s += std::string(R"(,"prev":)") + cid;
    return s + "}";
  };
  struct Case {
    std::string op;
    firehose::Error legacy, strict;
  } cases[] = {
      {op("create", true, false), firehose::Error::ok, firehose::Error::ok},
      {op("create", false, false), firehose::Error::op_missing_cid, firehose::Error::op_missing_cid},
      {op("create", true, true), firehose::Error::op_unexpected_prev, firehose::Error::op_unexpected_prev},
      {op("update", true, true), firehose::Error::ok, firehose::Error::ok},
      {op("update", true, false), firehose::Error::ok, firehose::Error::op_missing_prev},
      {op("update", false, true), firehose::Error::op_missing_cid, firehose::Error::op_missing_cid},
      {op("delete", false, true), firehose::Error::ok, firehose::Error::ok},
      {op("delete", false, false), firehose::Error::ok, firehose::Error::op_missing_prev},
      {op("delete", true, true), firehose::Error::op_unexpected_cid, firehose::Error::op_unexpected_cid},
      {op("create", true, false, "app.bsky.feed.post"), firehose::Error::bad_op_path, firehose::Error::bad_op_path},
      {op("create", true, false, "app.bsky.feed.post/a/b"), firehose::Error::bad_op_path, firehose::Error::bad_op_path},
      {op("create", true, false, "post/abc"), firehose::Error::bad_op_path, firehose::Error::bad_op_path},
  };
  firehose::Parser p;
  for (const Case& c : cases) {
    firehose::Frame f;
    Bytes frame = with_op(c.op.c_str());  // f points into these bytes
    REQUIRE(p.parse(frame, &f) == firehose::Error::ok);
    bool ok = CHECK_EQ(str(firehose::name(firehose::check_ops(f, false))), str(firehose::name(c.legacy)));
    ok &= CHECK_EQ(str(firehose::name(firehose::check_ops(f, true))), str(firehose::name(c.strict)));
    if (!ok) test::fail(__FILE__, __LINE__, "op: " + c.op);
  }
}

TEST(frame_check_syntax) {
  firehose::Parser p;
  firehose::Frame f;
  auto acct = [&](const char* did, const char* time) {
    std::string b = std::string(R"({"seq":1,"active":true,"did":")") + did + R"(","time":")" + time + "\"}";
    return concat(header_bytes(1, "#account"), body(b));
  };
  Bytes a1 = acct("did:plc:abc", "2025-01-01T00:00:00Z");
  REQUIRE(p.parse(a1, &f) == firehose::Error::ok);
  CHECK_EQ(firehose::check_syntax(f), firehose::Error::ok);
  Bytes a2 = acct("did:PLC:abc", "2025-01-01T00:00:00Z");
  REQUIRE(p.parse(a2, &f) == firehose::Error::ok);
  CHECK_EQ(firehose::check_syntax(f), firehose::Error::bad_did);
  Bytes a3 = acct("did:plc:abc", "2025-13-01T00:00:00Z");
  REQUIRE(p.parse(a3, &f) == firehose::Error::ok);
  CHECK_EQ(firehose::check_syntax(f), firehose::Error::bad_time);
  Bytes ident = concat(header_bytes(1, "#identity"),
                       body(R"({"seq":8,"did":"did:plc:abc","time":"2025-01-01T00:00:00Z","handle":"-bad.test"})"));
  REQUIRE(p.parse(ident, &f) == firehose::Error::ok);
  CHECK_EQ(firehose::check_syntax(f), firehose::Error::bad_handle);
  Bytes commit = concat(header_bytes(1, "#commit"), body(R"({"seq":1,"repo":"did:plc:abc","rev":"3lmxjza3nva27","since":"nope",)"
      R"("commit":{"$link":"bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"},"blocks":{"$bytes":""},"ops":[],"time":"2025-01-01T00:00:00Z"})"));
  REQUIRE(p.parse(commit, &f) == firehose::Error::ok);
  CHECK_EQ(firehose::check_syntax(f), firehose::Error::bad_since);
}
