// SPDX-License-Identifier: MIT
// Plain socket set-up around the ring: addresses, listen sockets (bind/listen stay
// syscalls: the io_uring opcodes for them need kernel 6.11), sockets to connect with.
// Only IP literals: names are resolved in TypeScript and handed down.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlay::io {

struct SocketAddress {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

// "127.0.0.1", "::1", "[::1]", "" (any IPv4... and IPv6 when dual-stack) with `port`.
// 0 or -EINVAL when `host` is not an IP literal.
int parse_address(std::string_view host, uint16_t port, SocketAddress* out);
// "1.2.3.4" / "::1" (IPv4-mapped IPv6 shown as IPv4); "" for other families.
std::string format_address(const sockaddr_storage& ss);
uint16_t address_port(const sockaddr_storage& ss);

// A bound, listening TCP socket (SO_REUSEADDR, CLOEXEC|NONBLOCK); fd or -errno. Port 0 binds
// an ephemeral port, reported in *bound_port.
int listen_tcp(const SocketAddress& addr, int backlog, uint16_t* bound_port);
// A non-blocking TCP socket of the address's family for Loop::connect; fd or -errno.
int connect_socket(const SocketAddress& addr);
// Small frames must not wait for Nagle; every socket the relay writes is latency-bound.
void set_nodelay(int fd);

}  // namespace ringlay::io
