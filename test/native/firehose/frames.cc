// SPDX-License-Identifier: MIT
#include "firehose/frames.h"

#include "cbor/encoder.h"
#include "harness.h"
#include "util/assert.h"

namespace ringlay::test {

Bytes header_bytes(int64_t op, std::string_view t, bool force_t) {
  Bytes out;
  cbor::Encoder e(out);
  bool with_t = !t.empty() || force_t;
  e.map(with_t ? 2 : 1);
  if (with_t) {
    e.key("t");
    e.text(t);
  }
  e.key("op");
  e.int64(op);
  e.finish();
  return out;
}

Bytes frame_from_json(const Json& header, const Json& body) {
  Bytes out;
  RL_ASSERT(encode_atjson(header, out));
  RL_ASSERT(encode_atjson(body, out));
  return out;
}

Bytes capture_frame(const std::string& seq, Json* msg) {
  std::string dir = shared_dir();
  if (dir.empty()) return {};
  if (!load_json(dir + "/atproto/indigo-captures/firehose_commit_" + seq + ".json", *msg)) return {};
  return concat(header_bytes(1, "#commit"), [&] {
    Bytes b;
    RL_ASSERT(encode_atjson(*msg, b));
    return b;
  }());
}

Json json(std::string_view text) {
  Json j;
  std::string err;
  RL_ASSERT(parse_json(text, j, &err));
  return j;
}

}  // namespace ringlay::test
