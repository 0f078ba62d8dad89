// SPDX-License-Identifier: MIT
#include "firehose/commit_builder.h"

#include "cbor/encoder.h"
#include "cid/varint.h"
#include "firehose/frames.h"
#include "mst/tree.h"
#include "util/assert.h"
#include "util/sha256.h"

namespace ringlay::test {
namespace {

void varint(Bytes& out, uint64_t v) {
  uint8_t buf[cid::kMaxVarintBytes];
  size_t n = cid::write_varint(v, buf);
  out.insert(out.end(), buf, buf + n);
}

// Collects every node root_cid() encodes.
class Collect final : public mst::BlockSink {
 public:
  explicit Collect(std::vector<Block>& out) : out_(out) {}
  void put(cid::CidView c, std::span<const uint8_t> bytes) override {
    out_.push_back(Block{cid::Cid::copy_of(c), Bytes(bytes.begin(), bytes.end())});
  }

 private:
  std::vector<Block>& out_;
};

void commit_fields(cbor::Encoder& e, std::string_view did, std::string_view rev,
                   const std::span<const uint8_t>* sig, cid::CidView data) {
  e.map(sig != nullptr ? 6 : 5);
  e.key("did"); e.text(did);
  e.key("rev"); e.text(rev);
  if (sig != nullptr) {
    e.key("sig");
    e.bytes(*sig);
  }
  e.key("data"); e.link(data);
  e.key("prev"); e.null();
  e.key("version"); e.int64(3);
  e.finish();
}

}  // namespace

Bytes car_bytes(cid::CidView root, const std::vector<Block>& blocks) {
  Bytes header;
  cbor::Encoder h(header);
  h.map(2);
  h.key("roots"); h.array(1); h.link(root);
  h.key("version"); h.int64(1);
  h.finish();
  Bytes out;
  varint(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  for (const Block& b : blocks) {
    varint(out, b.cid.size() + b.bytes.size());
    out.insert(out.end(), b.cid.data(), b.cid.data() + b.cid.size());
    out.insert(out.end(), b.bytes.begin(), b.bytes.end());
  }
  return out;
}

Bytes commit_frame(const CommitParts& p) {
  Bytes out = header_bytes(1, "#commit");
  Bytes car = car_bytes(p.car_root.empty() ? p.commit.view() : p.car_root.view(), p.blocks);
  cbor::Encoder e(out);
  e.map(p.prev_data.empty() ? 11 : 12);
  e.key("ops");
  e.array(static_cast<uint32_t>(p.ops.size()));
  for (const WireOp& op : p.ops) {
    e.map(op.prev.empty() ? 3 : 4);
    e.key("cid");
    if (op.cid.empty()) e.null(); else e.link(op.cid);
    e.key("path"); e.text(op.path);
    if (!op.prev.empty()) {
      e.key("prev");
      e.link(op.prev);
    }
    e.key("action"); e.text(op.action);
  }
  e.key("rev"); e.text(p.rev);
  e.key("seq"); e.int64(p.seq);
  e.key("repo"); e.text(p.repo);
  e.key("time"); e.text(p.time);
  e.key("blobs"); e.array(0);
  e.key("since");
  if (p.since) e.text(*p.since); else e.null();
  e.key("blocks"); e.bytes(car);
  e.key("commit"); e.link(p.commit);
  e.key("rebase"); e.boolean(p.rebase);
  e.key("tooBig"); e.boolean(p.too_big);
  if (!p.prev_data.empty()) {
    e.key("prevData");
    e.link(p.prev_data);
  }
  e.finish();
  return out;
}

Bytes sync_frame(int64_t seq, std::string_view did, std::string_view rev, cid::CidView root,
                 const std::vector<Block>& blocks) {
  Bytes out = header_bytes(1, "#sync");
  Bytes car = car_bytes(root, blocks);
  cbor::Encoder e(out);
  e.map(5);
  e.key("did"); e.text(did);
  e.key("rev"); e.text(rev);
  e.key("seq"); e.int64(seq);
  e.key("time"); e.text("2025-04-16T23:40:33.897Z");
  e.key("blocks"); e.bytes(car);
  e.finish();
  return out;
}

std::string tid_at(int64_t micros) {
  static const char kAlphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
  uint64_t v = static_cast<uint64_t>(micros) << 10;
  std::string s(13, '2');
  for (int i = 12; i >= 0; --i) {
    s[i] = kAlphabet[v & 31];
    v >>= 5;
  }
  return s;
}

Bytes unsigned_commit(std::string_view did, std::string_view rev, cid::CidView data) {
  Bytes out;
  cbor::Encoder e(out);
  commit_fields(e, did, rev, nullptr, data);
  return out;
}

Block commit_block(std::string_view did, std::string_view rev, std::span<const uint8_t> sig,
                   cid::CidView data) {
  Block b;
  cbor::Encoder e(b.bytes);
  commit_fields(e, did, rev, &sig, data);
  b.cid = cid::compute_dag_cbor(b.bytes);
  return b;
}

Block signed_commit(const crypto::SigningKey& key, std::string_view did, std::string_view rev,
                    cid::CidView data, std::array<uint8_t, 64>* sig_out) {
  std::array<uint8_t, 64> sig;
  RL_ASSERT(crypto::sign_digest(key, sha256(unsigned_commit(did, rev, data)), sig));
  if (sig_out != nullptr) *sig_out = sig;
  return commit_block(did, rev, sig, data);
}

TestRepo::TestRepo(crypto::Curve curve, std::string did, uint64_t seed)
    : did_(std::move(did)), counter_(seed * 1000000), clock_us_(1700000000000000 + int64_t(seed) * 1000000000) {
  RL_ASSERT(crypto::generate_signing_key(curve, key_, pub_));
  rebuild();
}

std::string TestRepo::next_rkey() { return tid_at(1600000000000000 + int64_t(++counter_) * 7919); }

Block TestRepo::record(std::string_view collection) {
  Block b;
  cbor::Encoder e(b.bytes);
  e.map(2);
  e.key("text"); e.text("record " + std::to_string(++counter_));
  e.key("$type"); e.text(collection);
  e.finish();
  b.cid = cid::compute_dag_cbor(b.bytes);
  return b;
}

void TestRepo::rebuild() {
  mst::Workspace ws;
  mst::Tree tree(ws, nullptr);
  tree.open_empty();
  for (const auto& [path, value] : records_) {
    cid::CidView previous;
    RL_ASSERT(tree.put(path, value.view(), &previous) == mst::Reason::ok);
  }
  nodes_.clear();
  Collect sink(nodes_);
  data_ = tree.root_cid(&sink);
}

CommitParts TestRepo::commit(const std::vector<std::pair<std::string, std::string>>& writes) {
  CommitParts p;
  p.seq = static_cast<int64_t>(++counter_);
  p.repo = did_;
  p.prev_data = data_;
  if (!rev_.empty()) p.since = rev_;
  std::vector<Block> new_records;
  for (const auto& [action, path] : writes) {
    WireOp op{action, path, {}, {}};
    auto it = records_.find(path);
    if (action != "create") {
      RL_ASSERT(it != records_.end());
      op.prev = it->second;
    } else {
      RL_ASSERT(it == records_.end());
    }
    if (action == "delete") {
      records_.erase(path);
    } else {
      Block r = record(path.substr(0, path.find('/')));
      op.cid = r.cid;
      records_[path] = r.cid;
      new_records.push_back(std::move(r));
    }
    p.ops.push_back(std::move(op));
  }
  rebuild();
  clock_us_ += 1000;
  rev_ = tid_at(clock_us_);
  p.rev = rev_;
  Block c = signed_commit(key_, did_, rev_, data_.view());
  p.commit = c.cid;
  p.blocks = std::move(new_records);
  p.blocks.insert(p.blocks.end(), nodes_.begin(), nodes_.end());
  p.blocks.push_back(std::move(c));  // commit last: the real captures do not put it first either
  return p;
}

void TestRepo::seed(size_t n, const std::vector<std::string>& collections) {
  std::vector<std::pair<std::string, std::string>> writes;
  for (size_t i = 0; i < n; ++i) {
    writes.emplace_back("create", collections[i % collections.size()] + "/" + next_rkey());
  }
  commit(writes);
}

}  // namespace ringlay::test
