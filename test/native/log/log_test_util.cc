// SPDX-License-Identifier: MIT
#include "log_test_util.h"

#include "log/file_io.h"

#include <dirent.h>
#include <fcntl.h>

#include <cerrno>

#include <algorithm>

namespace ringlay::log_test {

std::vector<std::string> segment_files(const std::string& events_dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(events_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      uint64_t base = 0;
      if (parse_segment_file_name(e->d_name, &base)) names.push_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (auto& n : names) n = events_dir + "/" + n;
  return names;
}

bool copy_events(const std::string& src_data_dir, const std::string& dst_data_dir) {
  std::string src = src_data_dir + "/events", dst = dst_data_dir + "/events";
  ::mkdir(dst_data_dir.c_str(), 0755);
  if (::mkdir(dst.c_str(), 0755) != 0 && errno != EEXIST) return false;
  DIR* d = ::opendir(src.c_str());
  if (d == nullptr) return false;
  bool ok = true;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string bytes;
    if (read_small_file(src + "/" + name, &bytes, size_t{1} << 30) != 0) {
      ok = false;
      continue;
    }
    if (write_file_replace(dst + "/" + name, bytes.data(), bytes.size(), ".copy") != 0) ok = false;
  }
  ::closedir(d);
  return ok;
}

bool truncate_file(const std::string& path, uint64_t size) {
  return ::truncate(path.c_str(), static_cast<off_t>(size)) == 0;
}

bool flip_byte(const std::string& path, uint64_t offset, uint8_t mask) {
  int err = 0;
  Fd fd = open_fd(path, O_RDWR, 0, &err);
  if (!fd) return false;
  uint8_t b = 0;
  size_t got = 0;
  if (pread_full(fd.get(), &b, 1, offset, &got) != 0 || got != 1) return false;
  b ^= mask;
  return pwrite_full(fd.get(), &b, 1, offset) == 0;
}

}  // namespace ringlay::log_test
