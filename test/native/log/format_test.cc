// SPDX-License-Identifier: MIT
// Record/segment/index formats and the checksum: the parts every other log test builds on.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"
#include "log/crc32c.h"
#include "log/format.h"

using namespace ringlay::log_store;

TEST(log_crc32c_known_vectors) {
  CHECK_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
  CHECK_EQ(crc32c(0, "", 0), 0u);
  std::vector<uint8_t> zeros(32, 0);
  CHECK_EQ(crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  // Chaining equals one pass, at every split point (exercises the 8-byte and tail loops).
  std::string s = "The quick brown fox jumps over the lazy dog, twice over.";
  uint32_t whole = crc32c(0, s.data(), s.size());
  for (size_t i = 0; i <= s.size(); ++i) {
    CHECK_EQ(crc32c(crc32c(0, s.data(), i), s.data() + i, s.size() - i), whole);
  }
}

TEST(log_record_header_round_trip) {
  std::string did = "did:plc:abc123";
  std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  std::vector<uint8_t> rec(kRecordHeaderSize + did.size() + payload.size());
  encode_record_header(rec.data(), 42, 1700000000000, did_hash(did), did, payload, 0xDEADBEEF);
  std::memcpy(rec.data() + kRecordHeaderSize, did.data(), did.size());
  std::memcpy(rec.data() + kRecordHeaderSize + did.size(), payload.data(), payload.size());
  RecordHeader h;
  REQUIRE(parse_record_header(rec.data(), rec.size(), 0xDEADBEEF, &h) == HeaderCheck::ok);
  CHECK_EQ(h.seq, 42u);
  CHECK_EQ(h.time_ms, 1700000000000u);
  CHECK_EQ(h.did_hash, did_hash(did));
  CHECK_EQ(h.did_len, did.size());
  CHECK_EQ(h.payload_len, payload.size());
  CHECK_EQ(h.total_size(), rec.size());
  CHECK(record_payload_ok(h, rec.data()));
  // Another salt (another segment) does not accept the header.
  CHECK(parse_record_header(rec.data(), rec.size(), 0xDEADBEEE, &h) == HeaderCheck::bad);
  // Every prefix shorter than header + DID is "need more", never ok.
  for (size_t n = 4; n < kRecordHeaderSize + did.size(); ++n) {
    CHECK(parse_record_header(rec.data(), n, 0xDEADBEEF, &h) == HeaderCheck::need_more);
  }
  // Any flipped bit of header or DID is caught: by the header checksum, or for the payload
  // checksum field (bytes 8..11, not under the header checksum) by the payload check.
  for (size_t i = 4; i < kRecordHeaderSize + did.size(); ++i) {
    if (i == kFlagsOffset) continue;
    rec[i] ^= 0x10;
    HeaderCheck c = parse_record_header(rec.data(), rec.size(), 0xDEADBEEF, &h);
    if (i >= 8 && i < 12) {
      CHECK(c == HeaderCheck::ok && !record_payload_ok(h, rec.data()));
    } else {
      CHECK(c != HeaderCheck::ok);
    }
    rec[i] ^= 0x10;
  }
  // A flags byte with unknown bits is not a header either.
  rec[kFlagsOffset] = 0x80;
  CHECK(parse_record_header(rec.data(), rec.size(), 0xDEADBEEF, &h) == HeaderCheck::bad);
  rec[kFlagsOffset] = 0;
  // A payload flip leaves the header valid but fails the payload check.
  rec.back() ^= 1;
  REQUIRE(parse_record_header(rec.data(), rec.size(), 0xDEADBEEF, &h) == HeaderCheck::ok);
  CHECK(!record_payload_ok(h, rec.data()));
  // Scrubbed: flag set, payload zeroed; header still valid, payload no longer checked.
  rec[kFlagsOffset] = kFlagScrubbed;
  std::memset(rec.data() + h.payload_offset(), 0, payload.size());
  REQUIRE(parse_record_header(rec.data(), rec.size(), 0xDEADBEEF, &h) == HeaderCheck::ok);
  CHECK(h.scrubbed());
  CHECK(record_payload_ok(h, rec.data()));
}

TEST(log_segment_names_and_headers) {
  CHECK_EQ(segment_file_name(42), std::string("00000000000000000042.seg"));
  uint64_t base = 0;
  CHECK(parse_segment_file_name("00000000020000000000.seg", &base));
  CHECK_EQ(base, 20000000000u);
  CHECK(!parse_segment_file_name("0000000002000000000.seg", &base));
  CHECK(!parse_segment_file_name("00000000020000000000.idx", &base));
  CHECK(!parse_segment_file_name("0000000002000000000x.seg", &base));
  SegmentHeader h{77, 123456, 0xABCDEF01};
  uint8_t buf[kSegmentHeaderSize];
  encode_segment_header(buf, h);
  SegmentHeader back;
  REQUIRE(parse_segment_header(buf, sizeof buf, &back));
  CHECK_EQ(back.base_seq, 77u);
  CHECK_EQ(back.salt, 0xABCDEF01u);
  buf[9] ^= 1;
  CHECK(!parse_segment_header(buf, sizeof buf, &back));
}

TEST(log_summary_round_trip_and_damage) {
  SegmentSummary s;
  s.base_seq = 10;
  s.end_offset = 4096;
  s.records = 3;
  s.first_seq = 10;
  s.last_seq = 12;
  s.first_time_ms = 5;
  s.last_time_ms = 9;
  s.scrub_gen = 2;
  s.index = {{10, 32}, {12, 2000}};
  std::string bytes = encode_summary(s);
  SegmentSummary back;
  REQUIRE(decode_summary(bytes, &back));
  CHECK_EQ(back.last_seq, 12u);
  CHECK_EQ(back.scrub_gen, 2u);
  REQUIRE(back.index.size() == 2);
  CHECK_EQ(back.index[1].offset, 2000u);
  bytes[20] ^= 1;
  CHECK(!decode_summary(bytes, &back));
  CHECK(!decode_summary(bytes.substr(0, bytes.size() - 1), &back));
}

TEST(log_did_hash_is_stable) {
  // Part of the on-disk format: this value must never change.
  CHECK_EQ(did_hash("did:plc:ewvi7nxzyoun6zhxrhs64oiz"), 0x18af27b288c942bbull);
  CHECK(did_hash("did:plc:a") != did_hash("did:plc:b"));
  CHECK_EQ(std::string(name(Reason::seq_order)), std::string("seq_order"));
  CHECK_EQ(std::string(name(reason_from_errno(ENOSPC))), std::string("no_space"));
}
