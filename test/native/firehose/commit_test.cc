// SPDX-License-Identifier: MIT
#include "firehose/commit.h"

#include <string>

#include "cbor/encoder.h"
#include "firehose/commit_builder.h"
#include "firehose/frame.h"
#include "firehose/frames.h"
#include "harness.h"
#include "util/assert.h"

using namespace ringlay;
using firehose::CommitError;
using test::Block;
using test::Bytes;

namespace {

const char* kCaptures[] = {"4621317030", "4621317332", "4621332152", "4623075231"};
constexpr int64_t kNowUs = int64_t{1745000000} * 1000000;  // 2025-04-18

std::string str(CommitError e) { return firehose::name(e); }

// A map written entry by entry in the given order (canonical or not): each value is one
// already-encoded item.
Bytes raw_map(const std::vector<std::pair<std::string, Bytes>>& entries) {
  Bytes out;
  cbor::write_head(out, 5, entries.size());
  for (const auto& [k, v] : entries) {
    cbor::write_head(out, 3, k.size());
    out.insert(out.end(), k.begin(), k.end());
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

template <typename F>
Bytes item(F&& write) {
  Bytes out;
  cbor::Encoder e(out);
  write(e);
  e.finish();
  return out;
}

Block block_of(Bytes bytes) {
  Block b;
  b.cid = cid::compute_dag_cbor(bytes);
  b.bytes = std::move(bytes);
  return b;
}

struct Loaded {
  Bytes car;
  firehose::CommitScratch scratch;
  firehose::Commit commit;
  const char* detail = "";
};

CommitError load(Loaded& l, const Block& commit_block, cid::CidView expected) {
  l.car = test::car_bytes(commit_block.cid.view(), {commit_block});
  return firehose::load_commit(l.car, expected, l.scratch, &l.commit, &l.detail);
}

// The common fields of a v3 commit as separately encoded items, in canonical order.
std::vector<std::pair<std::string, Bytes>> commit_entries(const cid::Cid& data) {
  std::array<uint8_t, 64> sig{};
  sig[31] = 1;
  sig[63] = 1;
  return {
      {"did", item([](cbor::Encoder& e) { e.text("did:plc:abc"); })},
      {"rev", item([](cbor::Encoder& e) { e.text("3lmxjza3nva27"); })},
      {"sig", item([&](cbor::Encoder& e) { e.bytes(sig); })},
      {"data", item([&](cbor::Encoder& e) { e.link(data); })},
      {"prev", item([](cbor::Encoder& e) { e.null(); })},
      {"version", item([](cbor::Encoder& e) { e.int64(3); })},
  };
}

}  // namespace

TEST(commit_loads_captured_commits) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto not found");
  firehose::Parser parser;
  firehose::CommitScratch scratch;
  for (const char* seq : kCaptures) {
    test::Json msg;
    Bytes frame = test::capture_frame(seq, &msg);
    REQUIRE(!frame.empty());
    firehose::Frame f;
    REQUIRE(parser.parse(frame, &f) == firehose::Error::ok);
    firehose::Commit c;
    const char* detail = "";
    REQUIRE(CHECK_EQ(str(firehose::load_commit(f.blocks, f.commit, scratch, &c, &detail)), "ok"));
    CHECK(c.cid == f.commit);
    CHECK_EQ(std::string(c.did), msg["repo"].str);
    CHECK_EQ(std::string(c.rev), msg["rev"].str);
    CHECK_EQ(c.version, 3);
    CHECK_EQ(c.sig.size(), 64u);
    CHECK(c.data.is_blessed_dag_cbor());
    CHECK_EQ(str(firehose::check_commit_fields(c, f.did, f.rev, kNowUs)), "ok");
    // Unsigned bytes: every entry but `sig` re-encoded from the decoded values (an independent
    // path from the source-slicing one) must give the same bytes.
    Bytes expected;
    cbor::Encoder e(expected);
    e.map(c.value.size() - 1);
    for (uint32_t i = 0; i < c.value.size(); ++i) {
      if (c.value.key(i) == "sig") continue;
      e.key(c.value.key(i));
      e.value(c.value.value(i));
    }
    e.finish();
    auto unsigned_bytes = firehose::unsigned_commit_bytes(c, scratch);
    CHECK(Bytes(unsigned_bytes.begin(), unsigned_bytes.end()) == expected);
    CHECK_EQ(unsigned_bytes.size(), c.block.size() - (1 + 3 + 2 + 64));  // minus "sig" and its 64 bytes
    CHECK_EQ(static_cast<int>(unsigned_bytes[0]), 0xa5);
    if (std::string(seq) == "4621317030") CHECK(!c.prev.empty());  // a legacy non-null prev
  }
}

TEST(commit_signature_checks) {
  for (crypto::Curve curve : {crypto::Curve::secp256k1, crypto::Curve::p256}) {
    test::TestRepo repo(curve, "did:plc:commitsig");
    test::CommitParts p = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()}});
    const Block& signed_block = p.blocks.back();
    Loaded l;
    REQUIRE(load(l, signed_block, p.commit.view()) == CommitError::ok);
    CHECK_EQ(crypto::name(firehose::verify_commit_signature(l.commit, repo.public_key(), l.scratch)),
             std::string("ok"));
    // Another key of the same curve.
    test::TestRepo other(curve, "did:plc:other", 2);
    CHECK_EQ(crypto::name(firehose::verify_commit_signature(l.commit, other.public_key(), l.scratch)),
             std::string("bad_signature"));
    // The malleable high-S twin, re-embedded (new block, new CID).
    std::array<uint8_t, 64> sig{};
    test::signed_commit(repo.signing_key(), repo.did(), repo.rev(), repo.data().view(), &sig);
    crypto::flip_s(curve, sig);
    Loaded hs;
    REQUIRE(load(hs, test::commit_block(repo.did(), repo.rev(), sig, repo.data().view()), {}) == CommitError::ok);
    CHECK_EQ(crypto::name(firehose::verify_commit_signature(hs.commit, repo.public_key(), hs.scratch)),
             std::string("high_s"));
    // A signature one byte short.
    Loaded shorter;
    REQUIRE(load(shorter, test::commit_block(repo.did(), repo.rev(), std::span(sig).first(63), repo.data().view()), {}) ==
            CommitError::ok);
    CHECK_EQ(crypto::name(firehose::verify_commit_signature(shorter.commit, repo.public_key(), shorter.scratch)),
             std::string("bad_signature_length"));
  }
}

TEST(commit_car_and_block_failures) {
  test::TestRepo repo(crypto::Curve::secp256k1, "did:plc:carfail");
  test::CommitParts p = repo.commit({{"create", "app.bsky.feed.like/" + repo.next_rkey()}});
  firehose::CommitScratch scratch;
  firehose::Commit c;
  const char* detail = "";
  Bytes car = test::car_bytes(p.commit.view(), p.blocks);
  REQUIRE(firehose::load_commit(car, p.commit.view(), scratch, &c, &detail) == CommitError::ok);

  // Garbage and a flipped byte inside a block.
  Bytes garbage = {0x01, 0x02, 0x03};
  CHECK_EQ(str(firehose::load_commit(garbage, p.commit.view(), scratch, &c, &detail)), "bad_car");
  Bytes flipped = car;
  flipped[flipped.size() - 5] ^= 0x01;  // inside the last block (the commit)
  CHECK_EQ(str(firehose::load_commit(flipped, p.commit.view(), scratch, &c, &detail)), "bad_car");
  CHECK_EQ(std::string(detail), "hash_mismatch");

  // Root is not the message's commit; root block absent.
  CHECK_EQ(str(firehose::load_commit(car, p.blocks[0].cid.view(), scratch, &c, &detail)), "car_root_mismatch");
  std::vector<Block> without_commit(p.blocks.begin(), p.blocks.end() - 1);
  Bytes missing = test::car_bytes(p.commit.view(), without_commit);
  CHECK_EQ(str(firehose::load_commit(missing, p.commit.view(), scratch, &c, &detail)), "commit_block_missing");
}

TEST(commit_block_must_be_a_strict_v3_commit) {
  const cid::Cid data = cid::compute_dag_cbor(Bytes{0xa0});
  auto entries = commit_entries(data);
  Loaded ok;
  REQUIRE(CHECK_EQ(str(load(ok, block_of(raw_map(entries)), {})), "ok"));

  // Same fields, `rev` before `did`: only canonical order is wrong (the CID is of these bytes).
  auto reordered = entries;
  std::swap(reordered[0], reordered[1]);
  Loaded l1;
  CHECK_EQ(str(load(l1, block_of(raw_map(reordered)), {})), "bad_commit_cbor");
  CHECK_EQ(std::string(l1.detail), "non_canonical_key_order");

  // Trailing bytes after the item.
  Bytes trailing = raw_map(entries);
  trailing.push_back(0x00);
  Loaded l2;
  CHECK_EQ(str(load(l2, block_of(trailing), {})), "bad_commit_cbor");
  CHECK_EQ(std::string(l2.detail), "trailing_bytes");

  // `prev` left out (it must be present even when null).
  auto no_prev = entries;
  no_prev.erase(no_prev.begin() + 4);
  Loaded l3;
  CHECK_EQ(str(load(l3, block_of(raw_map(no_prev)), {})), "bad_commit_shape");
  CHECK_EQ(std::string(l3.detail), "prev");

  // An extra field.
  auto extra = entries;
  extra.push_back({"zzzzzzzz", item([](cbor::Encoder& e) { e.int64(1); })});
  Loaded l4;
  CHECK_EQ(str(load(l4, block_of(raw_map(extra)), {})), "bad_commit_shape");
  CHECK_EQ(std::string(l4.detail), "unknown_field");

  // `data` as text; version 2.
  auto text_data = entries;
  text_data[3].second = item([](cbor::Encoder& e) { e.text("bafy"); });
  Loaded l5;
  CHECK_EQ(str(load(l5, block_of(raw_map(text_data)), {})), "bad_commit_shape");
  CHECK_EQ(std::string(l5.detail), "data");
  auto v2 = entries;
  v2[5].second = item([](cbor::Encoder& e) { e.int64(2); });
  Loaded l6;
  CHECK_EQ(str(load(l6, block_of(raw_map(v2)), {})), "bad_commit_version");

  // Not a map at all.
  Loaded l7;
  CHECK_EQ(str(load(l7, block_of(item([](cbor::Encoder& e) { e.int64(3); })), {})), "bad_commit_shape");
  CHECK_EQ(std::string(l7.detail), "not_map");
}

TEST(commit_fields_match_the_message_and_the_clock) {
  test::TestRepo repo(crypto::Curve::secp256k1, "did:plc:fields");
  const int64_t rev_us = 1745000000000000;
  const std::string rev = test::tid_at(rev_us);
  Loaded l;
  REQUIRE(load(l, test::signed_commit(repo.signing_key(), repo.did(), rev, repo.data().view()), {}) ==
          CommitError::ok);
  CHECK_EQ(str(firehose::check_commit_fields(l.commit, repo.did(), rev, rev_us)), "ok");
  CHECK_EQ(str(firehose::check_commit_fields(l.commit, "did:plc:someoneelse", rev, rev_us)), "commit_did_mismatch");
  CHECK_EQ(str(firehose::check_commit_fields(l.commit, repo.did(), test::tid_at(rev_us - 1), rev_us)),
           "commit_rev_mismatch");
  // Five minutes of clock skew are tolerated, more is not.
  const int64_t minute = 60 * 1000000;
  CHECK_EQ(str(firehose::check_commit_fields(l.commit, repo.did(), rev, rev_us - 4 * minute)), "ok");
  CHECK_EQ(str(firehose::check_commit_fields(l.commit, repo.did(), rev, rev_us - 5 * minute)), "ok");
  CHECK_EQ(str(firehose::check_commit_fields(l.commit, repo.did(), rev, rev_us - 5 * minute - 1)), "future_rev");
  // A non-clock TID from the captures (≈ 9.6 s after the epoch) is legal; a non-TID is not.
  Loaded old;
  REQUIRE(load(old, test::signed_commit(repo.signing_key(), repo.did(), "222222d7n7q22", repo.data().view()), {}) ==
          CommitError::ok);
  CHECK_EQ(str(firehose::check_commit_fields(old.commit, repo.did(), "222222d7n7q22", rev_us)), "ok");
  Loaded bad;
  REQUIRE(load(bad, test::signed_commit(repo.signing_key(), repo.did(), "not-a-tid", repo.data().view()), {}) ==
          CommitError::ok);
  CHECK_EQ(str(firehose::check_commit_fields(bad.commit, repo.did(), "not-a-tid", rev_us)), "bad_commit_rev");
}

TEST(commit_sync_car_holds_only_the_commit) {
  test::TestRepo repo(crypto::Curve::p256, "did:plc:sync");
  test::CommitParts p = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()}});
  const Block& commit = p.blocks.back();
  firehose::CommitScratch scratch;
  firehose::Commit c;
  const char* detail = "";
  Bytes only = test::car_bytes(commit.cid.view(), {commit, commit});  // a duplicate is tolerated
  REQUIRE(firehose::load_commit(only, {}, scratch, &c, &detail) == CommitError::ok);
  CHECK_EQ(str(firehose::check_sync_blocks(scratch, c)), "ok");
  Bytes more = test::car_bytes(commit.cid.view(), p.blocks);
  REQUIRE(firehose::load_commit(more, {}, scratch, &c, &detail) == CommitError::ok);
  CHECK_EQ(str(firehose::check_sync_blocks(scratch, c)), "sync_extra_blocks");
}
