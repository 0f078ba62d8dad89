// SPDX-License-Identifier: MIT
#include "firehose/validate.h"

#include <string>

#include "car/car.h"
#include "cbor/encoder.h"
#include "crypto/sign.h"
#include "firehose/commit_builder.h"
#include "firehose/frames.h"
#include "harness.h"
#include "util/assert.h"

using namespace ringlay;
using firehose::Reason;
using firehose::ValidateOptions;
using firehose::Verdict;
using test::Block;
using test::Bytes;
using test::CommitParts;
using test::TestRepo;

namespace {

constexpr int64_t kNowMs = 1746057600000;  // 2025-05-01: after every capture and scenario

std::string str(Reason r) { return firehose::name(r); }
std::string str(std::string_view s) { return std::string(s); }

ValidateOptions strict() {
  ValidateOptions o;
  o.now_ms = kNowMs;
  return o;
}
ValidateOptions lenient() {
  ValidateOptions o = strict();
  o.lenient = true;
  return o;
}

Verdict run(const Bytes& frame, const crypto::PublicKey* key, const ValidateOptions& o = strict()) {
  static firehose::Scratch* scratch = new firehose::Scratch();  // test-only reuse across cases
  firehose::FixedKey keys(key);
  return firehose::validate(frame, &keys, o, *scratch);
}

// A repo with some history, and one more commit of the given writes.
struct Fixture {
  TestRepo repo;
  CommitParts parts;
  explicit Fixture(crypto::Curve curve = crypto::Curve::secp256k1, const char* did = "did:plc:fixture")
      : repo(curve, did) {
    repo.seed(60, {"app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"});
    auto it = repo.records().begin();
    std::string updated = it->first;
    std::string deleted = std::next(it, 7)->first;
    parts = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()},
                         {"update", updated},
                         {"delete", deleted}});
  }
  Bytes frame() const { return test::commit_frame(parts); }
};

// Re-signs the commit of `p` with `sig` (any bytes): new commit block, new CID, new CAR root.
void resign(CommitParts& p, const TestRepo& repo, std::span<const uint8_t> sig) {
  Block c = test::commit_block(repo.did(), repo.rev(), sig, repo.data().view());
  p.commit = c.cid;
  p.blocks.back() = std::move(c);
}

// ASN.1 DER of a compact r||s (the form atproto forbids).
Bytes der_of(const std::array<uint8_t, 64>& rs) {
  auto integer = [](const uint8_t* v) {
    size_t i = 0;
    while (i < 31 && v[i] == 0) ++i;
    Bytes out{0x02};
    bool pad = (v[i] & 0x80) != 0;
    out.push_back(static_cast<uint8_t>(32 - i + (pad ? 1 : 0)));
    if (pad) out.push_back(0);
    out.insert(out.end(), v + i, v + 32);
    return out;
  };
  Bytes r = integer(rs.data()), s = integer(rs.data() + 32);
  Bytes out{0x30, static_cast<uint8_t>(r.size() + s.size())};
  out.insert(out.end(), r.begin(), r.end());
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

}  // namespace

TEST(validate_accepts_commits_of_both_curves) {
  for (crypto::Curve curve : {crypto::Curve::secp256k1, crypto::Curve::p256}) {
    Fixture fx(curve);
    Bytes frame = fx.frame();
    Verdict v = run(frame, &fx.repo.public_key());
    REQUIRE(CHECK_EQ(str(v.reason), "ok"));
    CHECK_EQ(v.flags, 0u);
    CHECK(v.key_status == firehose::KeyStatus::found);
    const firehose::Summary& s = v.summary;
    CHECK(s.type == firehose::Type::commit);
    CHECK_EQ(str(s.did), fx.repo.did());
    CHECK_EQ(str(s.rev), fx.repo.rev());
    CHECK_EQ(s.seq, fx.parts.seq);
    CHECK(s.commit == fx.parts.commit.view());
    CHECK(s.data == fx.repo.data().view());
    CHECK(s.prev_data == fx.parts.prev_data.view());
    CHECK(s.since.has_value() && *s.since == *fx.parts.since);
    CHECK_EQ(s.ops, 3u);
    CHECK(s.blocks_size > 0 && s.seq_location.size > 0);
    // Views point into the frame.
    CHECK(reinterpret_cast<const uint8_t*>(s.did.data()) > frame.data() &&
          reinterpret_cast<const uint8_t*>(s.did.data()) < frame.data() + frame.size());
  }
}

TEST(validate_rejects_each_mutation_with_its_reason) {
  Fixture fx;
  const TestRepo& repo = fx.repo;
  const crypto::PublicKey& key = repo.public_key();
  auto reason = [&](const CommitParts& p, const crypto::PublicKey* k = nullptr) {
    return str(run(test::commit_frame(p), k != nullptr ? k : &key).reason);
  };
  std::array<uint8_t, 64> sig{};
  test::signed_commit(repo.signing_key(), repo.did(), repo.rev(), repo.data().view(), &sig);

  CommitParts bad_sig = fx.parts;
  std::array<uint8_t, 64> flipped = sig;
  flipped[10] ^= 0x40;
  resign(bad_sig, repo, flipped);
  CHECK_EQ(reason(bad_sig), "bad_signature");

  CommitParts high_s = fx.parts;
  std::array<uint8_t, 64> twin = sig;
  crypto::flip_s(crypto::Curve::secp256k1, twin);
  resign(high_s, repo, twin);
  CHECK_EQ(reason(high_s), "high_s");

  CommitParts der = fx.parts;
  resign(der, repo, der_of(sig));
  CHECK_EQ(reason(der), "der_signature");

  TestRepo stranger(crypto::Curve::secp256k1, "did:plc:stranger", 9);
  CHECK_EQ(reason(fx.parts, &stranger.public_key()), "bad_signature");

  // The MST root node left out of the CAR: the forward check cannot read the tree.
  CommitParts missing = fx.parts;
  std::erase_if(missing.blocks, [&](const Block& b) { return b.cid == repo.data(); });
  CHECK_EQ(reason(missing), "missing_block");

  // An op for a record the commit did not touch / an op left out / another prevData.
  CommitParts extra = fx.parts;
  auto untouched = std::next(repo.records().begin(), 20);
  extra.ops.push_back({"delete", untouched->first, {}, untouched->second});
  CHECK_EQ(reason(extra), "deleted_key_present");
  CommitParts extra_create = fx.parts;
  extra_create.ops.push_back({"create", "app.bsky.feed.post/" + fx.repo.rev(), untouched->second, {}});
  CHECK_EQ(reason(extra_create), "op_value_mismatch");
  CommitParts fewer = fx.parts;
  fewer.ops.pop_back();
  CHECK_EQ(reason(fewer), "inversion_mismatch");
  CommitParts wrong_prev = fx.parts;
  wrong_prev.prev_data = repo.data();
  CHECK_EQ(reason(wrong_prev), "inversion_mismatch");

  // A record block whose bytes no longer match its CID.
  CommitParts bad_hash = fx.parts;
  bad_hash.blocks[0].bytes.back() ^= 0x01;
  Verdict v = run(test::commit_frame(bad_hash), &key);
  CHECK_EQ(str(v.reason), "bad_car");
  CHECK_EQ(std::string(v.detail), "hash_mismatch");

  // Bytes after the body item.
  Bytes trailing = fx.frame();
  trailing.push_back(0xf6);
  v = run(trailing, &key);
  CHECK_EQ(str(v.reason), "bad_body_cbor");
  CHECK_EQ(std::string(v.detail), "trailing_bytes");

  // CAR root is some other block.
  CommitParts root = fx.parts;
  root.car_root = root.blocks[0].cid;
  CHECK_EQ(reason(root), "car_root_mismatch");

  // A record the create op names is absent from the CAR.
  CommitParts no_record = fx.parts;
  no_record.blocks.erase(no_record.blocks.begin());
  CHECK_EQ(reason(no_record), "missing_record_block");
}

TEST(validate_rejects_non_canonical_commit_blocks) {
  Fixture fx;
  // The signed commit with its keys written in another order, CID recomputed: only canonicality
  // fails (and trailing bytes after the map, likewise).
  Block& c = fx.parts.blocks.back();
  cbor::Decoder dec;
  auto r = dec.decode(c.bytes);
  REQUIRE(r.ok());
  Bytes reordered;
  cbor::write_head(reordered, 5, r.value.size());
  for (uint32_t i : {1u, 0u, 2u, 3u, 4u, 5u}) {
    cbor::Value k = r.value.key_item(i), val = r.value.value(i);
    reordered.insert(reordered.end(), c.bytes.begin() + k.pos(), c.bytes.begin() + val.end_pos());
  }
  CommitParts p = fx.parts;
  p.blocks.back() = Block{cid::compute_dag_cbor(reordered), reordered};
  p.commit = p.blocks.back().cid;
  Verdict v = run(test::commit_frame(p), &fx.repo.public_key());
  CHECK_EQ(str(v.reason), "bad_commit_cbor");
  CHECK_EQ(std::string(v.detail), "non_canonical_key_order");

  Bytes trailing = c.bytes;
  trailing.push_back(0x00);
  p.blocks.back() = Block{cid::compute_dag_cbor(trailing), trailing};
  p.commit = p.blocks.back().cid;
  v = run(test::commit_frame(p), &fx.repo.public_key());
  CHECK_EQ(str(v.reason), "bad_commit_cbor");
  CHECK_EQ(std::string(v.detail), "trailing_bytes");
}

TEST(validate_key_outcomes) {
  Fixture fx;
  Bytes frame = fx.frame();
  Verdict none = run(frame, nullptr);
  CHECK_EQ(str(none.reason), "no_key");
  CHECK(none.key_status == firehose::KeyStatus::missing);
  CHECK(none.summary.data == fx.repo.data().view());  // the summary is there for the relay

  struct Unusable final : firehose::KeyProvider {
    firehose::KeyAnswer lookup(std::string_view) override {
      firehose::KeyAnswer a;
      a.status = firehose::KeyStatus::unusable;
      a.reason = crypto::KeyError::unsupported_key_type;
      a.version = 42;
      return a;
    }
  } unusable;
  firehose::Scratch scratch;
  Verdict v = firehose::validate(frame, &unusable, strict(), scratch);
  CHECK_EQ(str(v.reason), "key_unusable");
  CHECK_EQ(std::string(v.detail), "unsupported_key_type");
  CHECK_EQ(v.key_version, 42u);

  ValidateOptions skip = strict();
  skip.check_signature = false;
  v = run(frame, nullptr, skip);
  CHECK_EQ(str(v.reason), "ok");
  CHECK_EQ(v.flags, firehose::kFlagSignatureSkipped);
}

TEST(validate_prev_data_and_legacy_rules) {
  Fixture fx;
  const crypto::PublicKey* key = &fx.repo.public_key();
  CommitParts no_prev = fx.parts;
  no_prev.prev_data = cid::Cid();
  Verdict v = run(test::commit_frame(no_prev), key);
  CHECK_EQ(str(v.reason), "ok");  // flagged, not judged: the relay knows if state exists
  CHECK_EQ(v.flags, firehose::kFlagNoPrevData);
  ValidateOptions require = strict();
  require.require_prev_data = true;
  CHECK_EQ(str(run(test::commit_frame(no_prev), key, require).reason), "missing_prev_data");

  // Legacy ops (a delete without prev): strict refuses, lenient accepts without inversion.
  CommitParts legacy = no_prev;
  legacy.ops.back().prev = cid::Cid();
  v = run(test::commit_frame(legacy), key);
  CHECK_EQ(str(v.reason), "op_missing_prev");
  CHECK_EQ(v.op_index, 2);
  v = run(test::commit_frame(legacy), key, lenient());
  CHECK_EQ(str(v.reason), "ok");
  CHECK_EQ(v.flags, firehose::kFlagNoPrevData | firehose::kFlagLegacyOps | firehose::kFlagInversionSkipped);

  // Lenient accepts a failed inversion, flagged with the inversion's reason.
  CommitParts fewer = fx.parts;
  fewer.ops.pop_back();
  v = run(test::commit_frame(fewer), key, lenient());
  CHECK_EQ(str(v.reason), "ok");
  CHECK_EQ(v.flags, firehose::kFlagInversionFailed);
  CHECK_EQ(std::string(mst::name(v.invert_reason)), "inversion_mismatch");

  // tooBig / rebase.
  CommitParts big = fx.parts;
  big.too_big = true;
  CHECK_EQ(str(run(test::commit_frame(big), key).reason), "too_big_set");
  CHECK_EQ(run(test::commit_frame(big), key, lenient()).flags, firehose::kFlagTooBig);
  CommitParts rebase = fx.parts;
  rebase.rebase = true;
  CHECK_EQ(str(run(test::commit_frame(rebase), key).reason), "rebase_set");

  // A rev from the future.
  ValidateOptions early = strict();
  early.now_ms = 1700000000000;  // before the fixture's revs
  CHECK_EQ(str(run(fx.frame(), key, early).reason), "future_rev");
}

TEST(validate_depths) {
  Fixture fx;
  ValidateOptions o = strict();
  o.depth = firehose::Depth::frame;
  Verdict v = run(fx.frame(), nullptr, o);  // no key needed: the signature is not reached
  CHECK_EQ(str(v.reason), "ok");
  CHECK(v.summary.data.empty());
  o.depth = firehose::Depth::commit;
  v = run(fx.frame(), &fx.repo.public_key(), o);
  CHECK_EQ(str(v.reason), "ok");
  CHECK_EQ(v.flags, firehose::kFlagInversionSkipped);
  CommitParts fewer = fx.parts;
  fewer.ops.pop_back();
  CHECK_EQ(str(run(test::commit_frame(fewer), &fx.repo.public_key(), o).reason), "ok");
}

TEST(validate_sync_frames) {
  TestRepo repo(crypto::Curve::p256, "did:plc:syncer");
  CommitParts p = repo.commit({{"create", "app.bsky.feed.post/" + repo.next_rkey()}});
  const Block& commit = p.blocks.back();
  Bytes ok = test::sync_frame(7, repo.did(), repo.rev(), commit.cid.view(), {commit});
  Verdict v = run(ok, &repo.public_key());
  REQUIRE(CHECK_EQ(str(v.reason), "ok"));
  CHECK(v.summary.type == firehose::Type::sync);
  CHECK(v.summary.commit == commit.cid.view());
  CHECK(v.summary.data == repo.data().view());
  CHECK_EQ(v.summary.seq, 7);

  Bytes extra = test::sync_frame(7, repo.did(), repo.rev(), commit.cid.view(), p.blocks);
  CHECK_EQ(str(run(extra, &repo.public_key()).reason), "sync_extra_blocks");
  CHECK_EQ(str(run(extra, &repo.public_key(), lenient()).reason), "ok");
  CHECK_EQ(str(run(test::sync_frame(7, "did:plc:other", repo.rev(), commit.cid.view(), {commit}),
                   &repo.public_key()).reason), "commit_did_mismatch");
  CHECK_EQ(str(run(test::sync_frame(7, repo.did(), test::tid_at(1), commit.cid.view(), {commit}),
                   &repo.public_key()).reason), "commit_rev_mismatch");
  CHECK_EQ(str(run(test::sync_frame(7, repo.did(), repo.rev(), p.blocks[0].cid.view(), {commit}),
                   &repo.public_key()).reason), "commit_block_missing");
  TestRepo other(crypto::Curve::p256, "did:plc:x", 5);
  CHECK_EQ(str(run(ok, &other.public_key()).reason), "bad_signature");
  CHECK_EQ(str(run(ok, nullptr).reason), "no_key");
}

TEST(validate_other_message_types) {
  using test::frame_from_json;
  using test::json;
  // Summaries point into the frame: keep each frame alive while its verdict is read.
  Bytes identity = frame_from_json(json(R"({"t":"#identity","op":1})"),
                                   json(R"({"did":"did:plc:abc","seq":5,"time":"2025-04-16T23:40:33.895Z","handle":"alice.test"})"));
  Verdict v = run(identity, nullptr);
  REQUIRE(CHECK_EQ(str(v.reason), "ok"));
  CHECK(v.summary.type == firehose::Type::identity);
  CHECK(v.summary.handle && *v.summary.handle == "alice.test");
  CHECK(v.key_status == firehose::KeyStatus::not_checked);

  Bytes account = frame_from_json(json(R"({"t":"#account","op":1})"),
                                  json(R"({"did":"did:plc:abc","seq":6,"time":"2025-04-16T23:40:33.895Z","active":false,"status":"deactivated"})"));
  v = run(account, nullptr);
  REQUIRE(CHECK_EQ(str(v.reason), "ok"));
  CHECK(!v.summary.active);
  CHECK(v.summary.status && *v.summary.status == "deactivated");

  Bytes info = frame_from_json(json(R"({"t":"#info","op":1})"), json(R"({"name":"OutdatedCursor"})"));
  v = run(info, nullptr);
  CHECK_EQ(str(v.reason), "ok");
  CHECK_EQ(str(v.summary.name), "OutdatedCursor");
  Bytes error = frame_from_json(json(R"({"op":-1})"), json(R"({"error":"FutureCursor","message":"x"})"));
  v = run(error, nullptr);
  CHECK_EQ(str(v.reason), "ok");
  CHECK(v.summary.type == firehose::Type::error);
  Bytes unknown = frame_from_json(json(R"({"t":"#handle","op":1})"), json(R"({"did":"did:plc:abc"})"));
  v = run(unknown, nullptr);
  CHECK_EQ(str(v.reason), "ok");
  CHECK(v.summary.type == firehose::Type::unknown);
  CHECK_EQ(str(v.summary.t), "#handle");

  Bytes bad_handle = frame_from_json(json(R"({"t":"#identity","op":1})"),
                                     json(R"({"did":"did:plc:abc","seq":5,"time":"2025-04-16T23:40:33.895Z","handle":" bad"})"));
  CHECK_EQ(str(run(bad_handle, nullptr).reason), "bad_handle");
  Bytes no_active = frame_from_json(json(R"({"t":"#account","op":1})"), json(R"({"did":"did:plc:abc","seq":6,"time":"x"})"));
  v = run(no_active, nullptr);
  CHECK_EQ(str(v.reason), "missing_field");
  CHECK_EQ(std::string(v.detail), "active");
  Bytes garbage = {0xa1, 0x61};
  CHECK_EQ(str(run(garbage, nullptr).reason), "bad_header_cbor");
}

TEST(validate_peek_did) {
  Fixture fx;
  CHECK_EQ(str(firehose::peek_did(fx.frame())), fx.repo.did());
  Bytes sync = test::sync_frame(1, "did:plc:peek", "3lmxjza3nva27", fx.parts.commit.view(), {});
  CHECK_EQ(str(firehose::peek_did(sync)), "did:plc:peek");
  Bytes info = test::frame_from_json(test::json(R"({"t":"#info","op":1})"), test::json(R"({"name":"x"})"));
  CHECK_EQ(str(firehose::peek_did(info)), "");
  Bytes frame = fx.frame();
  for (size_t cut : {size_t{0}, size_t{3}, size_t{20}, frame.size() / 2}) {
    (void)firehose::peek_did(std::span(frame).first(cut));  // never reads past the input (ASan)
  }
}

// The four real pre-Sync-1.1 captures (indigo-captures/README): their keys are not included, so
// the signature is skipped (and shown to be checked: any other key fails). 4623075231 inverts;
// the other three lack MST nodes inversion needs.
TEST(validate_indigo_captures) {
  if (test::shared_dir().empty()) return test::skip("../shared/atproto not found");
  TestRepo unrelated(crypto::Curve::secp256k1, "did:plc:unrelated");
  for (const char* seq : {"4621317030", "4621317332", "4621332152", "4623075231"}) {
    std::fprintf(stderr, "    capture: %s\n", seq);
    test::Json msg;
    Bytes frame = test::capture_frame(seq, &msg);
    REQUIRE(!frame.empty());
    const bool inverts = std::string(seq) == "4623075231";
    ValidateOptions o = strict();
    o.check_signature = false;
    Verdict v = run(frame, nullptr, o);
    CHECK_EQ(str(v.reason), inverts ? "ok" : "missing_block");
    if (!inverts) CHECK(v.op_index >= 0);
    CHECK((v.flags & firehose::kFlagNoPrevData) != 0);
    CHECK_EQ(str(v.summary.did), msg["repo"].str);
    CHECK_EQ(str(v.summary.rev), msg["rev"].str);
    CHECK_EQ(v.summary.seq, std::stoll(seq));
    CHECK_EQ(cid::to_string(v.summary.commit), msg["commit"]["$link"].str);
    CHECK(v.summary.data.is_blessed_dag_cbor());
    CHECK_EQ(v.summary.ops, static_cast<uint32_t>(msg["ops"].size()));
    // Lenient: accepted, the failed inversion flagged.
    Verdict l = run(frame, nullptr, [&] { ValidateOptions x = o; x.lenient = true; return x; }());
    CHECK_EQ(str(l.reason), "ok");
    CHECK_EQ((l.flags & firehose::kFlagInversionFailed) != 0, !inverts);
    if (!inverts) CHECK_EQ(std::string(mst::name(l.invert_reason)), "missing_block");
    // With signature checking on, a key that is not the account's fails.
    CHECK_EQ(str(run(frame, &unrelated.public_key()).reason), "bad_signature");
  }
}

// indigo's relay scenarios: real frames with the account's real key. Every message validates,
// except two rev_ordering frames whose message rev is malformed or differs from the commit's
// (dropped by indigo too); the other drops are policy (account status, seq order).
TEST(validate_indigo_scenarios) {
  const std::string dir = test::shared_dir();
  if (dir.empty()) return test::skip("../shared/atproto not found");
  const char* files[] = {"account_lifecycle", "deactivation", "legacy", "post_lifecycle",
                         "post_lifecycle_legacy", "rev_ordering", "seq_ordering"};
  int commits = 0, signed_ok = 0;
  for (const char* file : files) {
    std::fprintf(stderr, "    scenario: %s\n", file);
    test::Json sc;
    REQUIRE(test::load_json(dir + "/atproto/indigo-scenarios/" + file + ".json", sc));
    const test::Json& k = sc["accounts"][0]["identity"]["keys"]["atproto"];
    crypto::PublicKey key;
    REQUIRE(crypto::parse_verification_method(k["type"].str, k["publicKeyMultibase"].str, key) ==
            crypto::KeyError::ok);
    TestRepo wrong(key.curve(), "did:plc:wrong");
    ValidateOptions o = sc["lenient"].b ? lenient() : strict();
    for (size_t i = 0; i < sc["messages"].size(); ++i) {
      const test::Json& m = sc["messages"][i];
      Bytes frame = test::frame_from_json(m["frame"]["header"], m["frame"]["body"]);
      Verdict v = run(frame, &key, o);
      // rev_ordering #1 claims rev "3lmxjza3nva00" ('0' is not a TID digit), #2 an older rev
      // than its commit block says.
      const bool rev_ordering = std::string(file) == "rev_ordering";
      const char* expected = rev_ordering && i == 1   ? "bad_rev"
                             : rev_ordering && i == 2 ? "commit_rev_mismatch"
                                                      : "ok";
      if (!CHECK_EQ(str(v.reason), expected)) {
        std::fprintf(stderr, "      message %zu: %s %s\n", i, firehose::name(v.reason), v.detail);
      }
      if (v.summary.type != firehose::Type::commit && v.summary.type != firehose::Type::sync) continue;
      ++commits;
      if (v.ok()) {
        ++signed_ok;
        CHECK(v.key_status == firehose::KeyStatus::found);
        CHECK((v.flags & firehose::kFlagInversionFailed) == 0);
        // indigo's wrong-key case: the same frames under another key are all refused.
        CHECK_EQ(str(run(frame, &wrong.public_key(), o).reason), "bad_signature");
      }
    }
  }
  CHECK(commits >= 25 && signed_ok >= 23);
}

// Robustness: single-bit changes. Inside the CAR every byte is covered by a hash, the signature
// or the structure, with one exception the protocol allows: a changed CID prefix (e.g. the codec)
// of a block nothing reads turns it into an unrelated extra block, which a CAR may carry.
// Anywhere in the frame, flips never crash or read out of bounds (ASan).
TEST(validate_bit_flips) {
  Fixture fx(crypto::Curve::secp256k1, "did:plc:bitflips");
  const Bytes frame = fx.frame();
  firehose::Frame f;
  firehose::Parser parser;
  REQUIRE(parser.parse(frame, &f) == firehose::Error::ok);
  const size_t car_begin = static_cast<size_t>(f.blocks.data() - frame.data());
  const size_t car_end = car_begin + f.blocks.size();
  car::Reader reader;
  REQUIRE(reader.parse(f.blocks) == car::Error::ok);
  auto in_cid_prefix = [&](size_t at) {  // frame offset within a block CID's first 4 bytes
    for (const car::Block& b : reader.blocks()) {
      const size_t cid_at = static_cast<size_t>(b.cid.data() - frame.data());
      if (at >= cid_at && at < cid_at + 4) return true;
    }
    return false;
  };
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  size_t accepted_outside = 0, accepted_prefix = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes m = frame;
    const size_t at = i < 1500 ? car_begin + next() % (car_end - car_begin) : next() % m.size();
    m[at] ^= static_cast<uint8_t>(1u << (next() % 8));
    Verdict v = run(m, &fx.repo.public_key());
    if (!v.ok()) continue;
    if (at < car_begin || at >= car_end) {
      ++accepted_outside;  // e.g. a changed `time` or `seq` digit: unsigned fields
    } else if (in_cid_prefix(at)) {
      ++accepted_prefix;
    } else {
      CHECK(!"a flip inside the CAR was accepted");
      std::fprintf(stderr, "      flip at CAR byte %zu accepted\n", at - car_begin);
    }
  }
  std::fprintf(stderr, "    accepted: %zu flips outside the CAR, %zu in unread CID prefixes\n",
               accepted_outside, accepted_prefix);
}
