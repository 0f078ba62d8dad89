// SPDX-License-Identifier: MIT
// kill -9 at random moments. A child process (node loading this test addon, running only
// log_crash_child_main) appends batches in a loop and reports every acknowledged batch
// through a pipe; the parent SIGKILLs it at a random moment, ten times over the same log.
// After each kill: no seq repeats, every reported seq is there with identical bytes, and the
// next child continues right after the last record on disk (same boot: no gap either).
//
// The child is a fresh process (posix_spawn of node), not a fork of this one: the test runs
// inside node, whose other threads may hold allocator locks at fork time.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <random>

#include "harness.h"
#include "log/file_io.h"
#include "log_test_util.h"

extern char** environ;

using namespace ringlay::log_test;

namespace {

constexpr const char* kDirEnv = "RINGLAY_LOG_CRASH_DIR";
constexpr uint64_t kOpened = 1, kWritten = 2;

Options child_options(const std::string& dir) {
  Options o;
  o.data_dir = dir;
  o.boot_id = "boot-crash";
  o.segment_max_bytes = 128 * 1024;  // rotations happen during the run
  o.lease_block = 3000;
  o.sync_interval_ms = 3;
  return o;
}

bool write_msg(int fd, uint64_t kind, uint64_t a, uint64_t b) {
  uint64_t m[3] = {kind, a, b};
  return ::write(fd, m, sizeof m) == static_cast<ssize_t>(sizeof m);  // < PIPE_BUF: atomic
}

bool read_msg(int fd, uint64_t m[3]) {
  size_t got = 0;
  auto* p = reinterpret_cast<uint8_t*>(m);
  while (got < 24) {
    ssize_t r = ::read(fd, p + got, 24 - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

std::string addon_path() {
  Dl_info info{};
  dladdr(reinterpret_cast<void*>(&addon_path), &info);
  return info.dli_fname != nullptr ? info.dli_fname : "";
}

pid_t spawn_child(const std::string& dir, int pipe_w) {
  char node[4096];
  ssize_t n = ::readlink("/proc/self/exe", node, sizeof node - 1);
  if (n <= 0) return -1;
  node[n] = '\0';
  std::string script = "process.exitCode = require(" + std::string("'") + addon_path() +
                       "').run(['log_crash_child_main']) ? 1 : 0";
  std::vector<std::string> env_strs;
  for (char** e = environ; *e != nullptr; ++e) env_strs.emplace_back(*e);
  env_strs.push_back(std::string(kDirEnv) + "=" + dir);
  std::vector<char*> envp;
  for (auto& s : env_strs) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string a0 = node, a1 = "-e";
  char* argv[] = {a0.data(), a1.data(), script.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipe_w, 3);  // the report pipe is the child's fd 3
  pid_t pid = -1;
  int err = posix_spawn(&pid, node, &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return err == 0 ? pid : -1;
}

}  // namespace

// The child's body; a no-op (skipped) in a normal test run.
TEST(log_crash_child_main) {
  const char* dir = std::getenv(kDirEnv);
  if (dir == nullptr) {
    ringlay::test::skip("helper process of log_kill9_at_random_moments");
    return;
  }
  Status st;
  auto log = EventLog::open(child_options(dir), &st);
  if (log == nullptr || !write_msg(3, kOpened, log->next_seq(), 0)) _exit(2);
  std::mt19937_64 rng(static_cast<uint64_t>(getpid()));
  for (;;) {
    size_t n = 1 + rng() % 200;
    uint64_t first = log->next_seq();
    std::vector<std::vector<uint8_t>> frames;
    std::vector<std::string> dids;
    std::vector<AppendRecord> recs;
    for (size_t i = 0; i < n; ++i) {
      frames.push_back(frame_for(first + i));
      dids.push_back(did_for(first + i));
    }
    for (size_t i = 0; i < n; ++i) recs.push_back({first + i, wall_ms(), dids[i], frames[i]});
    if (!log->append(recs).ok()) _exit(3);
    // Reported only after append returned: these seqs may now be "sent".
    if (!write_msg(3, kWritten, first, first + n - 1)) _exit(4);
    if (log->sync_due(monotonic_ns()) && !log->sync().ok()) _exit(5);
  }
}

TEST(log_kill9_at_random_moments) {
  TempDir d;
  std::mt19937_64 rng(20240611);
  uint64_t max_reported = 0, last_on_disk = 0, reports = 0;
  for (int round = 0; round < 10; ++round) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid_t pid = spawn_child(d.path(), p[1]);
    ::close(p[1]);
    REQUIRE(pid > 0);
    uint64_t m[3];
    bool opened = read_msg(p[0], m) && m[0] == kOpened;
    if (opened) {
      // Numbering continues right after the last record on disk: no reuse, and no gap.
      CHECK(m[1] > max_reported);
      CHECK_EQ(m[1], last_on_disk + 1);
      timespec ts{0, static_cast<long>(1000000 * (1 + rng() % 60))};
      nanosleep(&ts, nullptr);
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);  // not an early error exit
    while (read_msg(p[0], m)) {
      if (m[0] != kWritten) continue;
      CHECK(m[1] == max_reported + 1 || max_reported == 0 || m[1] > max_reported);
      max_reported = std::max(max_reported, m[2]);
      ++reports;
    }
    ::close(p[0]);
    REQUIRE(opened);
    // Verify on a copy, so the next child still finds the unclean state of a kill.
    TempDir copy;
    REQUIRE(copy_events(d.path(), copy.path()));
    Options o = child_options(copy.path());
    Status st;
    RecoveryReport rep;
    auto log = EventLog::open(o, &st, &rep);
    REQUIRE(log != nullptr);
    ReadAll all = read_all(*log, 0);
    CHECK(all.frames_ok);
    CHECK(!all.seqs.empty() && consecutive(all.seqs, 1, all.seqs.back()));
    last_on_disk = all.seqs.empty() ? 0 : all.seqs.back();
    CHECK(last_on_disk >= max_reported);
  }
  CHECK(reports >= 10);
  std::fprintf(stderr, "    kill -9 x10: %llu batches reported, last seq %llu\n",
               static_cast<unsigned long long>(reports), static_cast<unsigned long long>(last_on_disk));
}
