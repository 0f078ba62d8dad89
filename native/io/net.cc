// SPDX-License-Identifier: MIT
#include "io/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringlay::io {

int parse_address(std::string_view host, uint16_t port, SocketAddress* out) {
  *out = SocketAddress{};
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char buf[64];
  if (host.size() >= sizeof buf) return -EINVAL;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  if (host.empty() || host == "::") {
    // Any address: IPv6 wildcard, which also takes IPv4 unless the host disabled it.
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&out->ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    a6->sin6_addr = in6addr_any;
    out->len = sizeof *a6;
    return 0;
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&out->ss);
  if (inet_pton(AF_INET, buf, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    out->len = sizeof *a4;
    return 0;
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&out->ss);
  if (inet_pton(AF_INET6, buf, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    out->len = sizeof *a6;
    return 0;
  }
  return -EINVAL;
}

std::string format_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
    return buf;
  }
  if (ss.ss_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &a, buf, sizeof buf);
    }
    return buf;
  }
  return "";
}

uint16_t address_port(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

int listen_tcp(const SocketAddress& addr, int backlog, uint16_t* bound_port) {
  int fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  int one = 1;
  int zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len) < 0 || listen(fd, backlog) < 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) < 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  if (bound_port != nullptr) *bound_port = address_port(bound);
  return fd;
}

int connect_socket(const SocketAddress& addr) {
  int fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  set_nodelay(fd);
  return fd;
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace ringlay::io
