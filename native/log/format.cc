// SPDX-License-Identifier: MIT
#include "log/format.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "log/crc32c.h"

namespace ringlay::log_store {

const char* name(Reason r) {
  switch (r) {
    case Reason::ok: return "ok";
    case Reason::invalid_argument: return "invalid_argument";
    case Reason::not_found: return "not_found";
    case Reason::permission_denied: return "permission_denied";
    case Reason::no_space: return "no_space";
    case Reason::read_only: return "read_only";
    case Reason::too_many_files: return "too_many_files";
    case Reason::io_error: return "io_error";
    case Reason::locked: return "locked";
    case Reason::corrupt: return "corrupt";
    case Reason::seq_order: return "seq_order";
    case Reason::seq_limit: return "seq_limit";
    case Reason::frame_too_large: return "frame_too_large";
    case Reason::did_too_long: return "did_too_long";
    case Reason::fsync_failed: return "fsync_failed";
    case Reason::failed: return "failed";
    case Reason::closed: return "closed";
    case Reason::busy: return "busy";
    case Reason::patch_failed: return "patch_failed";
    case Reason::no_memory: return "no_memory";
  }
  return "unknown";
}

Reason reason_from_errno(int err) {
  switch (err) {
    case 0: return Reason::ok;
    case ENOENT: return Reason::not_found;
    case EACCES:
    case EPERM: return Reason::permission_denied;
    case ENOSPC:
    case EDQUOT: return Reason::no_space;
    case EROFS: return Reason::read_only;
    case EMFILE:
    case ENFILE: return Reason::too_many_files;
    case EWOULDBLOCK: return Reason::locked;
    case EINVAL: return Reason::invalid_argument;
    case ENOMEM: return Reason::no_memory;
    default: return Reason::io_error;
  }
}

namespace {

// Header checksum: bytes [12, 48) with the flags byte as 0, then the DID, seeded by the salt.
uint32_t header_crc(const uint8_t* hdr, std::string_view did, uint32_t salt) {
  uint8_t tmp[kRecordHeaderSize - 12];
  std::memcpy(tmp, hdr + 12, sizeof tmp);
  tmp[kFlagsOffset - 12] = 0;
  uint32_t c = crc32c(salt, tmp, sizeof tmp);
  return crc32c(c, did.data(), did.size());
}

}  // namespace

void encode_record_header(uint8_t* out, uint64_t seq, uint64_t time_ms, uint64_t dh,
                          std::string_view did, std::span<const uint8_t> payload, uint32_t salt) {
  put_u32(out, kRecordMagic);
  put_u32(out + 8, crc32c(0, payload.data(), payload.size()));
  put_u32(out + 12, static_cast<uint32_t>(payload.size()));
  put_u64(out + 16, seq);
  put_u64(out + 24, time_ms);
  put_u64(out + 32, dh);
  put_u16(out + 40, static_cast<uint16_t>(did.size()));
  out[42] = kRecordVersion;
  out[43] = 0;
  put_u32(out + 44, 0);
  put_u32(out + 4, header_crc(out, did, salt));
}

HeaderCheck parse_record_header(const uint8_t* p, size_t avail, uint32_t salt, RecordHeader* h) {
  if (avail < 4) return HeaderCheck::need_more;
  if (get_u32(p) != kRecordMagic) return HeaderCheck::bad;
  if (avail < kRecordHeaderSize) return HeaderCheck::need_more;
  uint16_t did_len = get_u16(p + 40);
  uint32_t payload_len = get_u32(p + 12);
  // Plausibility before the checksum, so garbage never makes a scan wait for 64 MiB.
  if (p[42] != kRecordVersion || did_len > kMaxDidBytes || payload_len > kMaxFrameBytes ||
      get_u32(p + 44) != 0 || (p[kFlagsOffset] & ~kFlagScrubbed) != 0) {
    return HeaderCheck::bad;
  }
  if (avail < kRecordHeaderSize + did_len) return HeaderCheck::need_more;
  std::string_view did(reinterpret_cast<const char*>(p + kRecordHeaderSize), did_len);
  if (header_crc(p, did, salt) != get_u32(p + 4)) return HeaderCheck::bad;
  h->seq = get_u64(p + 16);
  h->time_ms = get_u64(p + 24);
  h->did_hash = get_u64(p + 32);
  h->payload_len = payload_len;
  h->payload_crc = get_u32(p + 8);
  h->did_len = did_len;
  h->flags = p[kFlagsOffset];
  return HeaderCheck::ok;
}

bool record_payload_ok(const RecordHeader& h, const uint8_t* record) {
  if (h.scrubbed()) return true;
  return crc32c(0, record + h.payload_offset(), h.payload_len) == h.payload_crc;
}

void encode_segment_header(uint8_t* out, const SegmentHeader& h) {
  put_u64(out, kSegmentMagic);
  put_u64(out + 8, h.base_seq);
  put_u64(out + 16, h.created_ms);
  put_u32(out + 24, h.salt);
  put_u32(out + 28, crc32c(0, out, 28));
}

bool parse_segment_header(const uint8_t* p, size_t n, SegmentHeader* h) {
  if (n < kSegmentHeaderSize || get_u64(p) != kSegmentMagic) return false;
  if (crc32c(0, p, 28) != get_u32(p + 28)) return false;
  h->base_seq = get_u64(p + 8);
  h->created_ms = get_u64(p + 16);
  h->salt = get_u32(p + 24);
  return true;
}

std::string segment_file_name(uint64_t base_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.seg", static_cast<unsigned long long>(base_seq));
  return buf;
}

std::string index_file_name(uint64_t base_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.idx", static_cast<unsigned long long>(base_seq));
  return buf;
}

bool parse_segment_file_name(std::string_view name, uint64_t* base_seq) {
  if (name.size() != 24 || name.substr(20) != ".seg") return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *base_seq = v;
  return true;
}

uint64_t did_hash(std::string_view did) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : did) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

namespace {
constexpr uint64_t kIndexMagic = 0x3130584449594C52ull;  // "RLYIDX01"
constexpr size_t kSummaryFixed = 8 * 10 + 4;
}  // namespace

std::string encode_summary(const SegmentSummary& s) {
  std::string out(kSummaryFixed + s.index.size() * 16 + 4, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  const uint64_t fixed[] = {kIndexMagic, s.base_seq, s.end_offset, s.records, s.first_seq,
                            s.last_seq, s.first_time_ms, s.last_time_ms, s.scrub_gen, 0};
  for (size_t i = 0; i < 10; ++i) put_u64(p + 8 * i, fixed[i]);
  put_u32(p + 80, static_cast<uint32_t>(s.index.size()));
  uint8_t* e = p + kSummaryFixed;
  for (const IndexEntry& ie : s.index) {
    put_u64(e, ie.seq);
    put_u64(e + 8, ie.offset);
    e += 16;
  }
  put_u32(e, crc32c(0, p, static_cast<size_t>(e - p)));
  return out;
}

bool decode_summary(std::string_view bytes, SegmentSummary* s) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < kSummaryFixed + 4 || get_u64(p) != kIndexMagic) return false;
  uint32_t n = get_u32(p + 80);
  if (bytes.size() != kSummaryFixed + size_t{n} * 16 + 4) return false;
  if (crc32c(0, p, bytes.size() - 4) != get_u32(p + bytes.size() - 4)) return false;
  s->base_seq = get_u64(p + 8);
  s->end_offset = get_u64(p + 16);
  s->records = get_u64(p + 24);
  s->first_seq = get_u64(p + 32);
  s->last_seq = get_u64(p + 40);
  s->first_time_ms = get_u64(p + 48);
  s->last_time_ms = get_u64(p + 56);
  s->scrub_gen = get_u64(p + 64);
  s->index.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t* e = p + kSummaryFixed + size_t{i} * 16;
    s->index[i] = {get_u64(e), get_u64(e + 8)};
  }
  return true;
}

}  // namespace ringlay::log_store
