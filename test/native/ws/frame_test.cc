// SPDX-License-Identifier: MIT
#include "ws/frame.h"

#include "harness.h"
#include "ws/utf8.h"

using namespace ringlay;
using namespace ringlay::ws;

namespace {
std::string bytes(const FrameHeader& h) {
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), h.size);
}
}  // namespace

TEST(ws_server_header_sizes) {
  CHECK_EQ(bytes(server_frame_header(Opcode::binary, 0)), std::string("\x82\x00", 2));
  CHECK_EQ(bytes(server_frame_header(Opcode::binary, 125)), std::string("\x82\x7d"));
  CHECK_EQ(bytes(server_frame_header(Opcode::binary, 126)), std::string("\x82\x7e\x00\x7e", 4));
  CHECK_EQ(bytes(server_frame_header(Opcode::binary, 65535)), std::string("\x82\x7e\xff\xff"));
  CHECK_EQ(bytes(server_frame_header(Opcode::binary, 65536)),
           std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  CHECK_EQ(bytes(server_frame_header(Opcode::text, 5000000)),
           std::string("\x81\x7f\x00\x00\x00\x00\x00\x4c\x4b\x40", 10));
}

TEST(ws_client_header_carries_mask) {
  std::array<uint8_t, 4> mask{0x37, 0xfa, 0x21, 0x3d};
  CHECK_EQ(bytes(client_frame_header(Opcode::text, 5, mask)), std::string("\x81\x85\x37\xfa\x21\x3d"));
  CHECK_EQ(client_frame_header(Opcode::binary, 300, mask).size, 8);
  CHECK_EQ(client_frame_header(Opcode::binary, 70000, mask).size, 14);
}

TEST(ws_rfc6455_masked_hello) {
  // RFC 6455 §5.7: a single-frame masked text message "Hello".
  std::string hello = "Hello";
  BytesRef f = encode_client_frame(Opcode::text, as_bytes(hello), {0x37, 0xfa, 0x21, 0x3d});
  CHECK_EQ(std::string(f.view()), std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
  BytesRef s = encode_server_frame(Opcode::ping, as_bytes(hello));
  CHECK_EQ(std::string(s.view()), std::string("\x89\x05Hello"));
}

TEST(ws_close_payload) {
  CHECK_EQ(close_payload(1000, ""), std::string("\x03\xe8", 2));
  CHECK_EQ(close_payload(1008, "ConsumerTooSlow"), std::string("\x03\xf0" "ConsumerTooSlow"));
  CHECK_EQ(close_payload(kCloseNoStatus, "ignored"), "");
  // A long reason is cut to 123 bytes, never inside a UTF-8 sequence.
  std::string euro;
  for (int i = 0; i < 50; ++i) euro += "\xe2\x82\xac";  // 150 bytes
  std::string p = close_payload(1000, euro);
  CHECK(p.size() <= kMaxControlPayload);
  CHECK_EQ(p.size(), 2u + 123u);  // 41 whole euro signs
  CHECK(valid_utf8(p.substr(2)));
  CHECK_EQ(close_payload(1000, std::string(200, 'a')).size(), kMaxControlPayload);
}

TEST(ws_valid_close_codes) {
  for (uint16_t c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}) {
    CHECK(valid_close_code(c));
  }
  for (uint16_t c : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) CHECK(!valid_close_code(c));
}

TEST(ws_apply_mask_offset) {
  std::string data = "abcdefgh";
  std::array<uint8_t, 4> m{1, 2, 3, 4};
  std::string whole = data;
  apply_mask(reinterpret_cast<uint8_t*>(whole.data()), whole.size(), m);
  std::string parts = data;
  apply_mask(reinterpret_cast<uint8_t*>(parts.data()), 3, m, 0);
  apply_mask(reinterpret_cast<uint8_t*>(parts.data()) + 3, 5, m, 3);
  CHECK_EQ(whole, parts);
  CHECK(whole != data);
}
