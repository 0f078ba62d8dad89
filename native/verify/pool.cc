// SPDX-License-Identifier: MIT
#include <sched.h>

#include "verify/pool.h"

namespace ringlay::verify {

unsigned available_cpus() {
  // The affinity mask, not the machine's CPU count: a container or taskset may give us fewer.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

}  // namespace ringlay::verify
