// SPDX-License-Identifier: MIT
// libFuzzer target for the firehose frame parser and seq patching. When a frame parses:
//  - check_ops/check_syntax run on it (no crash);
//  - locate_seq finds the same seq location as the parser;
//  - patching the seq to a value derived from the input and re-parsing gives the same
//    summary except seq, and the bytes outside the seq value are unchanged;
//  - a #commit's blocks are run through the CAR reader.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "car/car.h"
#include "firehose/frame.h"
#include "firehose/seq_patch.h"

using namespace ringlay;
using firehose::Frame;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool same_cid(cid::CidView a, cid::CidView b) { return a == b; }

void check_same_except_seq(const Frame& a, const Frame& b) {
  require(a.type == b.type && a.op == b.op && a.t == b.t && a.has_seq == b.has_seq);
  require(a.did == b.did && a.time == b.time && a.rev == b.rev);
  require(a.blocks.size() == b.blocks.size());
  // (memcmp on an empty span would get nullptr: UB even for length 0)
  require(a.blocks.empty() || std::memcmp(a.blocks.data(), b.blocks.data(), a.blocks.size()) == 0);
  require(same_cid(a.commit, b.commit) && same_cid(a.prev_data, b.prev_data));
  require(a.since == b.since && a.too_big == b.too_big && a.rebase == b.rebase && a.blobs == b.blobs);
  require(a.handle == b.handle && a.active == b.active && a.status == b.status);
  require(a.name == b.name && a.message == b.message);
  require(a.ops.size() == b.ops.size());
  for (size_t i = 0; i < a.ops.size(); i++) {
    require(a.ops[i].action == b.ops[i].action && a.ops[i].path == b.ops[i].path);
    require(same_cid(a.ops[i].cid, b.ops[i].cid) && same_cid(a.ops[i].prev, b.ops[i].prev));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static firehose::Parser parser, reparser;
  static car::Reader car;
  static std::vector<uint8_t> patched;
  std::span<const uint8_t> in(data, size);
  Frame f;
  if (parser.parse(in, &f) != firehose::Error::ok) {
    firehose::SeqLocation loc;
    (void)firehose::locate_seq(in, &loc);  // must not crash on anything
    return 0;
  }
  (void)firehose::check_ops(f, true);
  (void)firehose::check_syntax(f);
  if (f.type == firehose::Type::commit || f.type == firehose::Type::sync) (void)car.parse(f.blocks);
  if (!f.has_seq) return 0;

  firehose::SeqLocation loc;
  require(firehose::locate_seq(in, &loc) == firehose::PatchError::ok);
  require(loc.offset == f.seq_location.offset && loc.size == f.seq_location.size);
  // A new seq chosen from the input so every head size gets exercised.
  uint64_t mix = size * 0x9e3779b97f4a7c15ull ^ (size > 0 ? data[size / 2] : 0);
  int64_t seq = static_cast<int64_t>(mix % static_cast<uint64_t>(firehose::kMaxSeq + 1));
  seq >>= (mix >> 58);  // small values too
  patched.assign(firehose::patched_size(size, loc, seq), 0);
  size_t written = 0;
  require(firehose::patch_seq_into(in, loc, seq, patched, &written) == firehose::PatchError::ok);
  require(written == patched.size());
  require(loc.offset > 0 && std::memcmp(patched.data(), data, loc.offset) == 0);
  size_t new_size = written - (size - loc.size);
  size_t tail = size - loc.offset - loc.size;
  require(tail == 0 ||
          std::memcmp(patched.data() + loc.offset + new_size, data + loc.offset + loc.size, tail) == 0);
  Frame g;
  require(reparser.parse(patched, &g) == firehose::Error::ok);
  require(g.has_seq && g.seq == seq);
  check_same_except_seq(f, g);
  return 0;
}
