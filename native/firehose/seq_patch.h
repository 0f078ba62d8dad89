// SPDX-License-Identifier: MIT
// Rewrites the `seq` of an encoded frame without re-encoding anything else: every other byte
// of the upstream frame (header, unknown fields, blocks) is kept, so what consumers receive
// is what the host sent except the relay's seq. The new value may need a longer or shorter
// head (e.g. 23 → 24 grows by one byte); the body map's entry order cannot change because the
// key "seq" stays where it was. One allocation and two memcpys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "firehose/frame.h"
#include "util/shared_bytes.h"

namespace ringlay::firehose {

enum class PatchError : uint8_t {
  ok,
  no_seq,             // the frame has no seq (#info, error frames, unknown types)
  bad_location,       // the location does not point at an unsigned integer head in the frame
  seq_out_of_range,   // new seq < 0 or > 2^53-1
  buffer_too_small,   // patch_seq_into: `out` smaller than patched_size()
  out_of_memory,
};
const char* name(PatchError e);

// Finds the seq without a full parse (a structural walk of the header and the body's top-level
// map; no UTF-8 or hash checks). For frames that were not parsed with Parser.
PatchError locate_seq(std::span<const uint8_t> frame, SeqLocation* loc);

// Size of the frame once its seq (at loc) is replaced by `seq`.
size_t patched_size(size_t frame_size, SeqLocation loc, int64_t seq);

// Writes the patched frame into out[0, patched_size). *written = bytes written.
PatchError patch_seq_into(std::span<const uint8_t> frame, SeqLocation loc, int64_t seq,
                          std::span<uint8_t> out, size_t* written);

// Same into a new SharedBytes (one allocation). Empty BytesRef on failure (*error says why).
BytesRef patch_seq(std::span<const uint8_t> frame, SeqLocation loc, int64_t seq, PatchError* error);

}  // namespace ringlay::firehose
