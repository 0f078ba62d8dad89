// SPDX-License-Identifier: MIT
#include "car/car.h"

#include <string>

#include "cbor/atjson.h"
#include "cbor/encoder.h"
#include "cid/varint.h"
#include "harness.h"
#include "json.h"

using namespace ringlay;
using ringlay::test::Bytes;
using ringlay::test::unhex;

namespace {

const char* kCaptures[] = {"4621317030", "4621317332", "4621332152", "4623075231"};

void put_varint(Bytes& out, uint64_t v) {
  uint8_t buf[10];
  size_t n = cid::write_varint(v, buf);
  out.insert(out.end(), buf, buf + n);
}

Bytes header(std::initializer_list<cid::CidView> roots, int64_t version = 1) {
  Bytes h;
  cbor::Encoder e(h);
  e.map(2);
  e.key("roots");
  e.array(static_cast<uint32_t>(roots.size()));
  for (cid::CidView r : roots) e.link(r);
  e.key("version");
  e.int64(version);
  Bytes out;
  put_varint(out, h.size());
  out.insert(out.end(), h.begin(), h.end());
  return out;
}

void section(Bytes& car, cid::CidView c, const Bytes& data) {
  put_varint(car, c.size() + data.size());
  car.insert(car.end(), c.data(), c.data() + c.size());
  car.insert(car.end(), data.begin(), data.end());
}

Bytes block(const char* text) {
  Bytes b;
  cbor::Encoder e(b);
  e.text(text);
  return b;
}

}  // namespace

TEST(car_reads_captured_commits) {
  std::string dir = test::shared_dir();
  if (dir.empty()) return test::skip("../shared/atproto not found");
  car::Reader car;
  for (const char* seq : kCaptures) {
    test::Json msg;
    REQUIRE(test::load_json(dir + "/atproto/indigo-captures/firehose_commit_" + seq + ".json", msg));
    std::string bytes;
    REQUIRE(test::base64_decode(msg["blocks"]["$bytes"].str, bytes));
    car::Error e = car.parse(test::span_of(bytes));
    REQUIRE(CHECK_EQ(std::string(car::name(e)), std::string("ok")));
    REQUIRE(car.roots().size() == 1);
    CHECK_EQ(cid::to_string(car.roots()[0]), msg["commit"]["$link"].str);
    CHECK(car.blocks()[0].cid != car.roots()[0]);  // the commit is not first in these CARs
    // Every block is found by its CID, points into the input, and is canonical DAG-CBOR.
    cbor::Decoder dec;
    for (const car::Block& b : car.blocks()) {
      auto found = car.find(b.cid);
      REQUIRE(found.has_value());
      CHECK(found->data() == b.data.data());
      CHECK(found->data() >= reinterpret_cast<const uint8_t*>(bytes.data()) &&
            found->data() + found->size() <= reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size());
      dec.clear();
      cbor::Result r = dec.decode(b.data);
      if (!CHECK_EQ(std::string(cbor::name(r.error)), std::string("ok"))) continue;
      // Canonical: re-encoding from the tape reproduces the block (so its CID) exactly.
      Bytes again;
      cbor::Encoder enc(again);
      enc.value(r.value);
      CHECK(cid::compute(b.cid.codec(), again) == b.cid);
    }
    CHECK_EQ(car.unique_blocks(), car.blocks().size());
    // Every op's record CID (creates) is in the CAR.
    for (size_t i = 0; i < msg["ops"].size(); i++) {
      cid::Cid c;
      REQUIRE(cid::parse_string(msg["ops"][i]["cid"]["$link"].str, &c) == cid::Error::ok);
      CHECK(car.contains(c.view()));
    }
  }
}

TEST(car_lookup_order_and_duplicates) {
  Bytes a = block("a"), b = block("b"), c = block("c");
  cid::Cid ca = cid::compute_dag_cbor(a), cb = cid::compute_dag_cbor(b), cc = cid::compute_dag_cbor(c);
  Bytes car = header({cb.view()});
  section(car, ca.view(), a);
  section(car, cb.view(), b);
  section(car, ca.view(), a);  // duplicate: tolerated
  car::Reader r;
  REQUIRE(r.parse(car) == car::Error::ok);
  CHECK_EQ(r.blocks().size(), size_t{3});
  CHECK_EQ(r.unique_blocks(), size_t{2});
  CHECK(r.find(cb.view()).has_value());
  CHECK_EQ(test::to_hex(*r.find(ca.view())), test::to_hex(a));
  CHECK(!r.find(cc.view()).has_value());
  CHECK(!r.find(cid::CidView()).has_value());
  // A raw-codec block with the same bytes is a different CID.
  Bytes raw_car = header({cb.view()});
  cid::Cid raw = cid::compute(cid::kCodecRaw, a);
  section(raw_car, raw.view(), a);
  REQUIRE(r.parse(raw_car) == car::Error::ok);
  CHECK(r.find(raw.view()).has_value());
  CHECK(!r.find(ca.view()).has_value());
  // Header only (no blocks) is a valid CAR.
  REQUIRE(r.parse(header({cb.view()})) == car::Error::ok);
  CHECK(r.blocks().empty());
  CHECK(!r.find(cb.view()).has_value());
}

TEST(car_many_blocks_index) {
  Bytes car;
  std::vector<Bytes> blocks;
  std::vector<cid::Cid> cids;
  for (int i = 0; i < 500; i++) {
    std::string s = "block " + std::to_string(i);
    blocks.push_back(block(s.c_str()));
    cids.push_back(cid::compute_dag_cbor(blocks.back()));
  }
  car = header({cids[0].view()});
  for (int i = 499; i >= 0; i--) section(car, cids[i].view(), blocks[i]);
  car::Reader r;
  REQUIRE(r.parse(car) == car::Error::ok);
  for (int i = 0; i < 500; i++) {
    auto f = r.find(cids[i].view());
    REQUIRE(f.has_value());
    CHECK_EQ(test::to_hex(*f), test::to_hex(blocks[i]));
  }
}

TEST(car_rejects_malformed_input) {
  Bytes a = block("a");
  cid::Cid ca = cid::compute_dag_cbor(a);
  car::Reader r;
  auto reason = [&](const Bytes& car) { return std::string(car::name(r.parse(car))); };

  CHECK_EQ(reason({}), std::string("truncated"));
  CHECK_EQ(reason(unhex("00")), std::string("zero_length"));
  CHECK_EQ(reason(unhex("80 00")), std::string("bad_varint"));
  Bytes good = header({ca.view()});
  section(good, ca.view(), a);
  REQUIRE(reason(good) == "ok");
  // Truncation anywhere inside a section.
  for (size_t cut = good.size() - 1; cut > header({ca.view()}).size(); cut--) {
    Bytes t(good.begin(), good.begin() + cut);
    if (!CHECK_EQ(reason(t), std::string("truncated"))) break;
  }
  Bytes zero = header({ca.view()});
  zero.push_back(0x00);
  CHECK_EQ(reason(zero), std::string("zero_length"));
  Bytes mismatch = header({ca.view()});
  section(mismatch, ca.view(), block("b"));
  CHECK_EQ(reason(mismatch), std::string("hash_mismatch"));
  CHECK(r.error_offset() > 0);
  CHECK_EQ(reason(header({ca.view()}, 2)), std::string("unsupported_version"));
  // Header that is not a map with roots/version.
  Bytes not_map = unhex("01 01");
  CHECK_EQ(reason(not_map), std::string("bad_header_shape"));
  Bytes bad_cbor = unhex("02 18 01");
  CHECK_EQ(reason(bad_cbor), std::string("bad_header"));
  CHECK_EQ(r.header_cbor_error(), cbor::Error::non_minimal_encoding);
  // Section whose CID is garbage, or longer than the section.
  Bytes bad_cid = header({ca.view()});
  bad_cid.insert(bad_cid.end(), {0x03, 0x12, 0x20, 0x00});
  CHECK_EQ(reason(bad_cid), std::string("bad_cid"));
  Bytes short_section = header({ca.view()});
  put_varint(short_section, 10);
  short_section.insert(short_section.end(), ca.data(), ca.data() + 10);
  CHECK_EQ(reason(short_section), std::string("bad_cid"));
  // Identity-hash CID: not sha2-256.
  Bytes ident = header({ca.view()});
  Bytes icid = unhex("01 55 00 01 61");
  put_varint(ident, icid.size());
  ident.insert(ident.end(), icid.begin(), icid.end());
  CHECK_EQ(reason(ident), std::string("unsupported_hash"));
  // Block limit.
  car::Options o;
  o.max_blocks = 1;
  car::Reader limited(o);
  Bytes two = header({ca.view()});
  section(two, ca.view(), a);
  section(two, ca.view(), a);
  CHECK_EQ(std::string(car::name(limited.parse(two))), std::string("too_many_blocks"));
}
