// SPDX-License-Identifier: MIT
// libFuzzer target for the CAR v1 reader. On success: every block is found by its CID, lies
// inside the input, and hashes to its CID; every root lookup is safe.
#include <cstdint>
#include <cstdlib>

#include "car/car.h"

using namespace ringlay;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static car::Reader reader;
  if (reader.parse({data, size}) != car::Error::ok) return 0;
  for (const car::Block& b : reader.blocks()) {
    auto found = reader.find(b.cid);
    if (!found || found->data() < data || found->data() + found->size() > data + size) std::abort();
    if (!cid::digest_matches(b.cid, *found)) std::abort();
  }
  for (cid::CidView root : reader.roots()) (void)reader.find(root);
  if (reader.unique_blocks() > reader.blocks().size()) std::abort();
  return 0;
}
