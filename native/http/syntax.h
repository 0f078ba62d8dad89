// SPDX-License-Identifier: MIT
// HTTP/1.1 character classes and small list helpers (RFC 9110 §5.6, RFC 9112), shared by the
// request parser, the response parser, the serializer and the WebSocket handshake. Pure
// functions, no allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringlay::http {

// tchar: "!#$%&'*+-.^_`|~" / DIGIT / ALPHA.
bool is_token_char(uint8_t c);
bool is_token(std::string_view s);
// Field-value bytes: VCHAR, SP, HTAB and obs-text (0x80-0xFF); never CR, LF, NUL or other CTLs.
bool is_field_value_char(uint8_t c);
bool is_field_value(std::string_view s);
// ASCII case-insensitive comparison (header names and tokens).
bool iequals(std::string_view a, std::string_view b);
// True when the comma-separated list `list` (e.g. a Connection value) holds `token`,
// compared case-insensitively, ignoring optional whitespace around elements.
bool list_has_token(std::string_view list, std::string_view token);
// Strips leading and trailing SP/HTAB.
std::string_view trim_ows(std::string_view s);

}  // namespace ringlay::http
