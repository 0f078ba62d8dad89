// SPDX-License-Identifier: MIT
// Relay-built #account / #identity frames: exact canonical bytes, decoded back by the firehose
// parser with every field, the seq location patchable, and bad input refused.
#include "firehose/frame.h"
#include "firehose/seq_patch.h"
#include "harness.h"
#include "relay/synth.h"

using namespace ringlay;
using namespace ringlay::relay;

namespace {

const char* kTime = "2024-01-01T00:00:00.000Z";
const char* kDid = "did:plc:abcdefghijklmnopqrstuvwx";

void text(std::string& out, std::string_view s) {
  RL_ASSERT(s.size() < 256);
  if (s.size() < 24) {
    out.push_back(static_cast<char>(0x60 + s.size()));
  } else {
    out.push_back(static_cast<char>(0x78));
    out.push_back(static_cast<char>(s.size()));
  }
  out.append(s);
}

std::string hex_of(const BytesRef& b) { return test::hex(b.view()); }

}  // namespace

TEST(synth_account_is_canonical_dag_cbor) {
  SynthEncoder enc;
  SynthFrame f;
  f.kind = SynthFrame::Kind::account;
  f.did = kDid;
  f.time = kTime;
  f.active = false;
  f.status = "takendown";
  firehose::SeqLocation loc;
  SynthError err;
  BytesRef b = enc.encode(f, &loc, &err);
  REQUIRE(b);
  CHECK_EQ(name(err), std::string("ok"));
  // Built by hand: header {t, op} then {did, seq, time, active, status}, shortest keys first.
  std::string want;
  want.push_back(static_cast<char>(0xa2));
  text(want, "t");
  text(want, "#account");
  text(want, "op");
  want.push_back(0x01);
  want.push_back(static_cast<char>(0xa5));
  text(want, "did");
  text(want, kDid);
  text(want, "seq");
  size_t seq_at = want.size();
  want.push_back(0x00);
  text(want, "time");
  text(want, kTime);
  text(want, "active");
  want.push_back(static_cast<char>(0xf4));
  text(want, "status");
  text(want, "takendown");
  CHECK_EQ(hex_of(b), test::hex(want));
  CHECK_EQ(loc.offset, static_cast<uint32_t>(seq_at));
  CHECK_EQ(loc.size, 1u);

  firehose::Parser p;
  firehose::Frame parsed;
  REQUIRE(p.parse(b.span(), &parsed) == firehose::Error::ok);
  CHECK(parsed.type == firehose::Type::account);
  CHECK_EQ(parsed.did, std::string_view(kDid));
  CHECK_EQ(parsed.time, std::string_view(kTime));
  CHECK(!parsed.active);
  REQUIRE(parsed.status.has_value());
  CHECK_EQ(*parsed.status, std::string_view("takendown"));

  // The log patches the seq like an upstream frame's; the result parses with that seq.
  firehose::PatchError perr;
  BytesRef patched = firehose::patch_seq(b.span(), loc, 123456789, &perr);
  REQUIRE(patched);
  REQUIRE(p.parse(patched.span(), &parsed) == firehose::Error::ok);
  CHECK_EQ(parsed.seq, int64_t{123456789});
  CHECK(*parsed.status == "takendown");
}

TEST(synth_account_active_has_no_status) {
  SynthEncoder enc;
  SynthFrame f;
  f.did = kDid;
  f.time = kTime;
  f.active = true;
  firehose::SeqLocation loc;
  SynthError err;
  BytesRef b = enc.encode(f, &loc, &err);
  REQUIRE(b);
  firehose::Parser p;
  firehose::Frame parsed;
  REQUIRE(p.parse(b.span(), &parsed) == firehose::Error::ok);
  CHECK(parsed.active);
  CHECK(!parsed.status.has_value());
  CHECK_EQ(parsed.seq_location.offset, loc.offset);
}

TEST(synth_identity_with_and_without_handle) {
  SynthEncoder enc;
  firehose::Parser p;
  firehose::Frame parsed;
  for (bool with_handle : {true, false}) {
    SynthFrame f;
    f.kind = SynthFrame::Kind::identity;
    f.did = kDid;
    f.time = kTime;
    if (with_handle) f.handle = "alice.example.com";
    firehose::SeqLocation loc;
    SynthError err;
    BytesRef b = enc.encode(f, &loc, &err);
    REQUIRE(b);
    REQUIRE(p.parse(b.span(), &parsed) == firehose::Error::ok);
    CHECK(parsed.type == firehose::Type::identity);
    CHECK_EQ(parsed.did, std::string_view(kDid));
    CHECK_EQ(parsed.handle.has_value(), with_handle);
    if (with_handle) CHECK_EQ(*parsed.handle, std::string_view("alice.example.com"));
    CHECK_EQ(parsed.seq_location.offset, loc.offset);
    CHECK_EQ(firehose::check_syntax(parsed), firehose::Error::ok);
  }
}

TEST(synth_refuses_what_it_would_reject_from_an_upstream) {
  SynthEncoder enc;
  firehose::SeqLocation loc;
  SynthError err;
  SynthFrame f;
  f.time = kTime;
  CHECK(!enc.encode(f, &loc, &err));
  CHECK_EQ(name(err), std::string("missing_did"));
  f.did = "not a did";
  CHECK(!enc.encode(f, &loc, &err));
  CHECK_EQ(name(err), std::string("invalid_frame"));
  f.did = kDid;
  f.time = "yesterday";
  CHECK(!enc.encode(f, &loc, &err));
  CHECK_EQ(name(err), std::string("invalid_frame"));
  f.time = kTime;
  f.kind = SynthFrame::Kind::identity;
  f.handle = "not_a_handle!";
  CHECK(!enc.encode(f, &loc, &err));
  CHECK_EQ(name(err), std::string("invalid_frame"));
  f.handle = "";
  CHECK(!enc.encode(f, &loc, &err));
  CHECK_EQ(name(err), std::string("empty_handle"));
}
