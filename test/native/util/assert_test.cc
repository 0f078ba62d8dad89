// SPDX-License-Identifier: MIT
#include "harness.h"
#include "util/assert.h"

TEST(harness_checks_run) {
  RL_ASSERT(1 + 1 == 2);
  CHECK_EQ(2 + 2, 4);
  CHECK_EQ(std::string("a"), std::string("a"));
}
