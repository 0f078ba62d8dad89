// SPDX-License-Identifier: MIT
#include "http/response.h"

#include <cstdio>

#include "http/syntax.h"

namespace ringlay::http {

std::string server_header_value(std::string_view version) {
  std::string out = "ringlay/";
  out += version;
  out += " (atproto-relay)";
  return out;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string http_date(std::time_t now) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

namespace {

// Headers the transport writes itself: a handler copy would duplicate or contradict framing.
bool reserved(std::string_view name) {
  return iequals(name, "server") || iequals(name, "date") || iequals(name, "content-length") ||
         iequals(name, "connection") || iequals(name, "transfer-encoding");
}

void add(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

size_t serialize_response_head(const ResponseHead& head, std::string& out) {
  int status = head.status >= 100 && head.status <= 999 ? head.status : 500;
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += status_reason(status);
  out += "\r\n";
  add(out, "Server", head.server);
  if (!head.date.empty()) add(out, "Date", head.date);
  if (head.content_length_header) add(out, "Content-Length", std::to_string(head.content_length));
  if (status != 101) add(out, "Connection", head.keep_alive ? "keep-alive" : "close");
  size_t dropped = 0;
  for (const Header& h : head.headers) {
    if (reserved(h.name) || !is_token(h.name) || !is_field_value(h.value)) {
      ++dropped;
      continue;
    }
    add(out, h.name, trim_ows(h.value));
  }
  out += "\r\n";
  return dropped;
}

namespace {

// XRPC error names for the statuses parse errors produce.
std::string_view xrpc_error(int status) {
  switch (status) {
    case 413: return "PayloadTooLarge";
    case 414: return "URITooLong";
    case 431: return "RequestHeaderFieldsTooLarge";
    case 501: return "NotImplemented";
    case 505: return "HTTPVersionNotSupported";
    default: return "BadRequest";
  }
}

}  // namespace

std::string serialize_error_response(Error e, std::string_view server, std::string_view date) {
  int status = error_status(e);
  std::string body = "{\"error\":\"";
  body += xrpc_error(status);
  body += "\",\"message\":\"";
  body += error_name(e);
  body += "\"}";
  Header type{"Content-Type", "application/json; charset=utf-8"};
  ResponseHead head;
  head.status = status;
  head.headers = {&type, 1};
  head.content_length = body.size();
  head.keep_alive = false;
  head.server = server;
  head.date = date;
  std::string out;
  serialize_response_head(head, out);
  out += body;
  return out;
}

}  // namespace ringlay::http
