// SPDX-License-Identifier: MIT
// libFuzzer target for the strict DAG-CBOR decoder. Invariants checked on every input:
//  - a successful decode re-encodes byte-identically (strict = canonical, so the tape must
//    hold everything), and the root's end_pos() is the input size;
//  - decode_prefix agrees with decode about where the first item ends;
//  - validate() gives the same verdict as decode().
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cbor/decoder.h"
#include "cbor/encoder.h"

using namespace ringlay;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cbor::Decoder decoder;
  static std::vector<uint8_t> out;
  std::span<const uint8_t> in(data, size);
  decoder.clear();
  cbor::Result r = decoder.decode(in);
  if (cbor::validate(in) != r.error) std::abort();
  size_t end = 0;
  decoder.clear();
  cbor::Result p = decoder.decode_prefix(in, &end);
  if (r.ok() != (p.ok() && end == size)) std::abort();
  if (!r.ok()) return 0;
  if (p.value.end_pos() != size) std::abort();
  out.clear();
  cbor::Encoder e(out);
  e.value(p.value);
  e.finish();
  if (out.size() != size || std::memcmp(out.data(), data, size) != 0) std::abort();
  return 0;
}
