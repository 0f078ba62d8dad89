// SPDX-License-Identifier: MIT
// atproto identifier syntax, as the relay checks it on ingest (interop/syntax fixtures):
// DID, handle, NSID, TID, record key, repo path <nsid>/<rkey>, datetime. Pure functions on
// bytes; no allocation, no regex engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ringlay::firehose {

inline constexpr size_t kMaxDidLength = 2048;
inline constexpr size_t kMaxHandleLength = 253;
inline constexpr size_t kMaxNsidLength = 317;
inline constexpr size_t kMaxRecordKeyLength = 512;
inline constexpr size_t kTidLength = 13;

// did:<method a-z>:<id of A-Za-z0-9._:%->, not ending in ':' or '%', at most 2048 chars.
bool valid_did(std::string_view s);
// Hostname of >= 2 labels, last label not starting with a digit; case-insensitive.
bool valid_handle(std::string_view s);
// Reversed domain authority + name (>= 3 segments), name letter-first alphanumeric.
bool valid_nsid(std::string_view s);
// 13 base32-sortable chars, first in 234567abcdefghij.
bool valid_tid(std::string_view s);
// The timestamp of a valid TID: its first 11 characters (the last 2 are the clock id), in
// microseconds since the Unix epoch, as the reference implementations read it.
std::optional<int64_t> tid_micros(std::string_view tid);
// 1..512 of A-Za-z0-9 . - _ : ~, not "." or "..".
bool valid_record_key(std::string_view s);
// <nsid>/<rkey>, exactly one '/'.
bool valid_repo_path(std::string_view s);
// RFC 3339 subset atproto allows (T separator, Z or ±hh:mm with -00:00 rejected, optional
// fraction), with real calendar ranges.
bool valid_datetime(std::string_view s);
// Microseconds since the Unix epoch of a valid datetime (fraction beyond µs truncated).
std::optional<int64_t> datetime_micros(std::string_view s);

}  // namespace ringlay::firehose
