// SPDX-License-Identifier: MIT
// probe_uring(): can this process run the io_uring transport? Sets up a throwaway ring the
// way the transport does, checks (IORING_REGISTER_PROBE) exactly the opcodes the driver
// submits, registers a provided-buffer ring and runs one multishot receive over a socket
// pair, since neither buffer rings nor multishot receive show up in the opcode probe.
// `--io auto` uses the result to pick a transport; `--io uring` reports its message.
#pragma once

#include <string>

#include "io/ring.h"

namespace ringlay::io {

struct ProbeResult {
  bool ok = false;
  int err = 0;          // positive errno when !ok
  std::string code;     // errno name when !ok ("EPERM")
  std::string message;  // operator-facing; on success names the task-run mode
  TaskRunMode mode = TaskRunMode::plain;
};

ProbeResult probe_uring();

// The opcode check alone, for an already created ring: 0 or -EOPNOTSUPP with `missing`
// naming the first absent opcode.
int check_opcodes(const Ring& ring, const char** missing);

}  // namespace ringlay::io
