// SPDX-License-Identifier: MIT
// MST keys: repo paths `<collection>/<record key>` compared as bytes. A key's layer ("height")
// comes from its SHA-256, so it is fixed by the key alone; that is what makes the tree shape a
// function of the key set and lets two implementations agree on every node CID.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringlay::mst {

// Longest key an MST may hold (the reference implementations' limit).
inline constexpr size_t kMaxKeyBytes = 256;

// Layer of a key: leading zero bits of SHA-256(key), divided by 2 and rounded down (fanout 4).
// Costs one SHA-256 of the key.
int key_height(std::string_view key);

// Number of leading bytes `a` and `b` share (the prefix an MST entry elides).
size_t common_prefix_len(std::string_view a, std::string_view b);

// Repo path rules for a key: 1..kMaxKeyBytes bytes, exactly two non-empty segments separated by
// one '/', every other byte in A-Z a-z 0-9 . - _ ~ :.
bool is_valid_key(std::string_view key);

}  // namespace ringlay::mst
