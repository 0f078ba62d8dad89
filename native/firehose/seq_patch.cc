// SPDX-License-Identifier: MIT
#include "firehose/seq_patch.h"

#include <cstring>

#include "cbor/encoder.h"
#include "cbor/skim.h"

namespace ringlay::firehose {

const char* name(PatchError e) {
  switch (e) {
    case PatchError::ok: return "ok";
    case PatchError::no_seq: return "no_seq";
    case PatchError::bad_location: return "bad_location";
    case PatchError::seq_out_of_range: return "seq_out_of_range";
    case PatchError::buffer_too_small: return "buffer_too_small";
    case PatchError::out_of_memory: return "out_of_memory";
  }
  return "unknown";
}

namespace {

bool valid_location(std::span<const uint8_t> frame, SeqLocation loc) {
  if (loc.size == 0 || loc.offset >= frame.size() || loc.size > frame.size() - loc.offset) return false;
  uint8_t ib = frame[loc.offset];
  if ((ib >> 5) != 0) return false;  // an unsigned integer
  uint8_t info = ib & 31;
  size_t size = info < 24 ? 1 : info <= 27 ? 1 + (size_t{1} << (info - 24)) : 0;
  return size == loc.size;
}

void write_uint_head(uint64_t v, uint8_t* out) {
  size_t n = cbor::head_size(v);
  if (n == 1) {
    out[0] = static_cast<uint8_t>(v);
    return;
  }
  out[0] = static_cast<uint8_t>(n == 2 ? 24 : n == 3 ? 25 : n == 5 ? 26 : 27);
  for (size_t i = 1; i < n; i++) out[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

}  // namespace

PatchError locate_seq(std::span<const uint8_t> frame, SeqLocation* loc) {
  cbor::Skim c{frame.data(), frame.data() + frame.size()};
  if (!c.skip(0)) return PatchError::bad_location;  // the header
  uint8_t major;
  uint64_t entries;
  if (!c.head(&major, &entries) || major != 5) return PatchError::bad_location;
  for (uint64_t i = 0; i < entries; i++) {
    uint64_t len;
    if (!c.head(&major, &len) || major != 3 || len > static_cast<uint64_t>(c.end - c.p)) {
      return PatchError::bad_location;
    }
    bool is_seq = len == 3 && std::memcmp(c.p, "seq", 3) == 0;
    c.p += len;
    const uint8_t* value = c.p;
    if (!c.skip(0)) return PatchError::bad_location;
    if (is_seq) {
      SeqLocation l{static_cast<uint32_t>(value - frame.data()), static_cast<uint32_t>(c.p - value)};
      if (!valid_location(frame, l)) return PatchError::bad_location;
      *loc = l;
      return PatchError::ok;
    }
  }
  return PatchError::no_seq;
}

size_t patched_size(size_t frame_size, SeqLocation loc, int64_t seq) {
  uint64_t v = seq < 0 ? 0 : static_cast<uint64_t>(seq);
  return frame_size - loc.size + cbor::head_size(v);
}

PatchError patch_seq_into(std::span<const uint8_t> frame, SeqLocation loc, int64_t seq,
                          std::span<uint8_t> out, size_t* written) {
  if (loc.size == 0) return PatchError::no_seq;
  if (!valid_location(frame, loc)) return PatchError::bad_location;
  if (seq < 0 || seq > kMaxSeq) return PatchError::seq_out_of_range;
  size_t total = patched_size(frame.size(), loc, seq);
  if (out.size() < total) return PatchError::buffer_too_small;
  size_t head = cbor::head_size(static_cast<uint64_t>(seq));
  std::memcpy(out.data(), frame.data(), loc.offset);
  write_uint_head(static_cast<uint64_t>(seq), out.data() + loc.offset);
  size_t tail = frame.size() - loc.offset - loc.size;
  std::memcpy(out.data() + loc.offset + head, frame.data() + loc.offset + loc.size, tail);
  *written = total;
  return PatchError::ok;
}

BytesRef patch_seq(std::span<const uint8_t> frame, SeqLocation loc, int64_t seq, PatchError* error) {
  *error = PatchError::ok;
  if (loc.size == 0) {
    *error = PatchError::no_seq;
    return {};
  }
  if (!valid_location(frame, loc)) {
    *error = PatchError::bad_location;
    return {};
  }
  if (seq < 0 || seq > kMaxSeq) {
    *error = PatchError::seq_out_of_range;
    return {};
  }
  size_t total = patched_size(frame.size(), loc, seq);
  BytesRef out = BytesRef::adopt(SharedBytes::create(total));
  if (!out) {
    *error = PatchError::out_of_memory;
    return {};
  }
  size_t written = 0;
  *error = patch_seq_into(frame, loc, seq, {out.mutable_data(), total}, &written);
  return *error == PatchError::ok ? out : BytesRef();
}

}  // namespace ringlay::firehose
