// SPDX-License-Identifier: MIT
#include "firehose/seq_patch.h"

#include <cstring>

#include "cbor/encoder.h"

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

// A structural CBOR cursor: heads and lengths only, no validation beyond staying inside the
// input. Enough to find a map key in a frame that may never have been parsed.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;

  // Reads a head; false at truncation or on an indefinite/reserved head.
  bool head(uint8_t* major, uint64_t* arg) {
    if (p >= end) return false;
    uint8_t ib = *p++;
    *major = ib >> 5;
    uint8_t info = ib & 31;
    if (info < 24) {
      *arg = info;
      return true;
    }
    if (info >= 28) return false;
    size_t n = size_t{1} << (info - 24);
    if (static_cast<size_t>(end - p) < n) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    p += n;
    *arg = v;
    return true;
  }

  bool skip(int depth) {
    if (depth > 64) return false;
    uint8_t major;
    uint64_t arg;
    if (!head(&major, &arg)) return false;
    switch (major) {
      case 2:
      case 3:
        if (arg > static_cast<uint64_t>(end - p)) return false;
        p += arg;
        return true;
      case 4:
      case 5: {
        uint64_t n = major == 5 ? arg * 2 : arg;
        if (major == 5 && arg > UINT64_MAX / 2) return false;
        for (uint64_t i = 0; i < n; i++) {
          if (!skip(depth + 1)) return false;  // each item uses >= 1 byte: bounded by input
        }
        return true;
      }
      case 6: return skip(depth + 1);
      default: return true;  // integers, simple values, floats: the head was everything
    }
  }
};

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
  Cursor c{frame.data(), frame.data() + frame.size()};
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
