// SPDX-License-Identifier: MIT
#include "firehose/seq_patch.h"

#include <string>

#include "cbor/encoder.h"
#include "firehose/frames.h"
#include "harness.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::concat;
using ringlay::test::header_bytes;

namespace {

// An #account frame whose seq is `seq`, with an unknown field after it.
Bytes account(int64_t seq) {
  Bytes b;
  cbor::Encoder e(b);
  e.map(5);
  e.key("did"); e.text("did:plc:abc");
  e.key("seq"); e.int64(seq);
  e.key("time"); e.text("2025-01-01T00:00:00Z");
  e.key("active"); e.boolean(true);
  e.key("zzzzzzzzFuture"); e.array(1); e.int64(seq);  // unknown field, must survive
  e.finish();
  return concat(header_bytes(1, "#account"), b);
}

// Same frame summary except seq.
void check_same_except_seq(const firehose::Frame& a, const firehose::Frame& b) {
  CHECK_EQ(a.type, b.type);
  CHECK_EQ(std::string(a.did), std::string(b.did));
  CHECK_EQ(std::string(a.time), std::string(b.time));
  CHECK_EQ(a.active, b.active);
  CHECK_EQ(a.ops.size(), b.ops.size());
  CHECK_EQ(test::to_hex(a.blocks), test::to_hex(b.blocks));
}

}  // namespace

TEST(seq_patch_crosses_every_head_size_boundary) {
  const int64_t values[] = {0, 1, 23, 24, 255, 256, 65535, 65536, 4294967295, 4294967296,
                            firehose::kMaxSeq};
  firehose::Parser p;
  for (int64_t from : values) {
    Bytes frame = account(from);
    firehose::Frame f;
    REQUIRE(p.parse(frame, &f) == firehose::Error::ok);
    firehose::SeqLocation loc = f.seq_location;
    firehose::SeqLocation scanned;
    REQUIRE(firehose::locate_seq(frame, &scanned) == firehose::PatchError::ok);
    CHECK_EQ(scanned.offset, loc.offset);
    CHECK_EQ(scanned.size, loc.size);
    for (int64_t to : values) {
      firehose::PatchError err;
      BytesRef out = firehose::patch_seq(frame, loc, to, &err);
      REQUIRE(err == firehose::PatchError::ok);
      CHECK_EQ(out.size(), firehose::patched_size(frame.size(), loc, to));
      // Byte-identical outside the seq value; the value is the minimal encoding of `to`.
      Bytes expect(frame.begin(), frame.begin() + loc.offset);
      cbor::Encoder e(expect);
      e.int64(to);
      expect.insert(expect.end(), frame.begin() + loc.offset + loc.size, frame.end());
      CHECK_EQ(test::to_hex(out.span()), test::to_hex(expect));
      firehose::Frame g;
      firehose::Parser q;
      REQUIRE(q.parse(out.span(), &g) == firehose::Error::ok);
      CHECK_EQ(g.seq, to);
      check_same_except_seq(f, g);
      // The unknown field still carries the original value.
      CHECK_EQ(*q.body().find("zzzzzzzzFuture").at(0).as_int(), from);
    }
  }
}

TEST(seq_patch_preserves_captured_commits) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto not found");
  firehose::Parser p, q;
  for (const char* seq : {"4621317030", "4623075231"}) {
    test::Json msg;
    Bytes frame = test::capture_frame(seq, &msg);
    firehose::Frame f, g;
    REQUIRE(p.parse(frame, &f) == firehose::Error::ok);
    // Upstream seq needs 9 bytes (> 2^32); the relay's 20,000,000,000 too; 5 needs 1.
    for (int64_t to : {int64_t{20000000000}, int64_t{5}, int64_t{70000}}) {
      Bytes out(firehose::patched_size(frame.size(), f.seq_location, to));
      size_t written = 0;
      REQUIRE(firehose::patch_seq_into(frame, f.seq_location, to, out, &written) == firehose::PatchError::ok);
      CHECK_EQ(written, out.size());
      REQUIRE(q.parse(out, &g) == firehose::Error::ok);
      CHECK_EQ(g.seq, to);
      CHECK_EQ(cid::to_string(g.commit), cid::to_string(f.commit));
      CHECK_EQ(std::string(g.rev), std::string(f.rev));
      check_same_except_seq(f, g);
    }
  }
}

TEST(seq_patch_failures) {
  Bytes info = concat(header_bytes(1, "#info"), [] {
    Bytes b;
    cbor::Encoder e(b);
    e.map(1);
    e.key("name"); e.text("OutdatedCursor");
    return b;
  }());
  firehose::SeqLocation loc;
  CHECK_EQ(firehose::locate_seq(info, &loc), firehose::PatchError::no_seq);
  firehose::PatchError err;
  CHECK(!firehose::patch_seq(info, firehose::SeqLocation{}, 5, &err));
  CHECK_EQ(err, firehose::PatchError::no_seq);

  Bytes frame = account(100);
  firehose::Parser p;
  firehose::Frame f;
  REQUIRE(p.parse(frame, &f) == firehose::Error::ok);
  CHECK(!firehose::patch_seq(frame, f.seq_location, -1, &err));
  CHECK_EQ(err, firehose::PatchError::seq_out_of_range);
  CHECK(!firehose::patch_seq(frame, f.seq_location, firehose::kMaxSeq + 1, &err));
  CHECK_EQ(err, firehose::PatchError::seq_out_of_range);
  // A location that does not hold an unsigned integer of that size.
  firehose::SeqLocation wrong{f.seq_location.offset - 1, f.seq_location.size};
  CHECK(!firehose::patch_seq(frame, wrong, 5, &err));
  CHECK_EQ(err, firehose::PatchError::bad_location);
  firehose::SeqLocation past{static_cast<uint32_t>(frame.size()), 1};
  CHECK(!firehose::patch_seq(frame, past, 5, &err));
  CHECK_EQ(err, firehose::PatchError::bad_location);
  Bytes small(3);
  size_t written = 0;
  CHECK_EQ(firehose::patch_seq_into(frame, f.seq_location, 5, small, &written), firehose::PatchError::buffer_too_small);
  // Truncated or non-map frames cannot be located.
  CHECK_EQ(firehose::locate_seq(Bytes(frame.begin(), frame.begin() + 20), &loc), firehose::PatchError::bad_location);
  CHECK_EQ(firehose::locate_seq(test::unhex("a0 01"), &loc), firehose::PatchError::bad_location);
  // A negative seq is not patchable in place.
  Bytes neg = concat(header_bytes(1, "#account"), test::unhex("a1 63 73 65 71 20"));
  CHECK_EQ(firehose::locate_seq(neg, &loc), firehose::PatchError::bad_location);
}
