// SPDX-License-Identifier: MIT
// Invariant checks. RL_ASSERT stays on in release builds: a relay that keeps running on a
// broken invariant corrupts the log or the firehose, which is worse than a restart (zlay's
// ReleaseSafe lesson). RL_DASSERT is for checks too costly for the hot path.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace ringlay {

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  // stderr, not stdout: native threads never write to stdout (it belongs to the JSON log).
  std::fprintf(stderr, "ringlay: invariant failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace ringlay

#define RL_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::ringlay::assert_fail(#cond, __FILE__, __LINE__))

#if defined(RINGLAY_DEBUG)
#define RL_DASSERT(cond) RL_ASSERT(cond)
#else
#define RL_DASSERT(cond) static_cast<void>(0)
#endif
