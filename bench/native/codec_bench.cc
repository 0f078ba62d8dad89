// SPDX-License-Identifier: MIT
// Codec throughput on the four captured #commit messages (indigo-captures), built into wire
// frames. Stages, each timed separately in thread CPU time with warm, reused parsers:
//   parse      firehose::Parser::parse (header + body strict decode, summary, ops)
//   +car       parse + car::Reader::parse (every block SHA-256 verified, indexed)
//   +blocks    parse + CAR + strict decode of every block (commit, MST nodes, records)
//   patch      seq patch into a reused buffer (the relay does this for every frame)
//
//   node scripts/build-native.mjs --mode release --core-only --out build/bench
//   g++ -std=c++20 -O2 -fno-exceptions -Inative -Itest/native -I/usr/include/node bench/native/codec_bench.cc
//       test/native/json.cc test/native/cbor/atjson.cc build/bench/libringlay_core.a -lcrypto
//       -o build/bench/codec_bench
//   build/bench/codec_bench [shared_dir=../shared] [seconds_per_stage=2]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "car/car.h"
#include "cbor/atjson.h"
#include "cbor/decoder.h"
#include "cbor/encoder.h"
#include "firehose/frame.h"
#include "firehose/seq_patch.h"
#include "json.h"
#include "util/assert.h"

using namespace ringlay;

namespace {

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<test::Bytes> load_frames(const std::string& shared) {
  std::vector<test::Bytes> frames;
  for (const char* seq : {"4621317030", "4621317332", "4621332152", "4623075231"}) {
    test::Json msg;
    std::string path = shared + "/atproto/indigo-captures/firehose_commit_" + seq + ".json";
    if (!test::load_json(path, msg)) {
      std::fprintf(stderr, "codec_bench: cannot read %s\n", path.c_str());
      std::exit(1);
    }
    test::Bytes f;
    cbor::Encoder h(f);
    h.map(2);
    h.key("t"); h.text("#commit");
    h.key("op"); h.int64(1);
    RL_ASSERT(test::encode_atjson(msg, f));
    frames.push_back(std::move(f));
  }
  return frames;
}

// Runs `fn` over all frames repeatedly for about `seconds` of CPU; prints frames/s and MB/s.
template <typename Fn>
void stage(const char* name, const std::vector<test::Bytes>& frames, double seconds, Fn fn) {
  size_t bytes_per_round = 0;
  for (const auto& f : frames) bytes_per_round += f.size();
  for (const auto& f : frames) fn(f);  // warm-up: parsers reach steady-state capacity
  size_t rounds = 0;
  double start = cpu_seconds(), now = start;
  while (now - start < seconds) {
    for (int i = 0; i < 64; i++) {
      for (const auto& f : frames) fn(f);
    }
    rounds += 64;
    now = cpu_seconds();
  }
  double t = now - start;
  double n = static_cast<double>(rounds * frames.size());
  std::printf("%-8s %10.0f frames/s  %8.1f MB/s  %7.2f us/frame\n", name, n / t,
              static_cast<double>(rounds * bytes_per_round) / t / 1e6, t / n * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::string shared = argc > 1 ? argv[1] : "../shared";
  double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  std::vector<test::Bytes> frames = load_frames(shared);
  size_t total = 0;
  for (const auto& f : frames) total += f.size();
  std::printf("codec_bench: %zu captured #commit frames, %zu bytes in all\n", frames.size(), total);

  firehose::Parser parser;
  car::Reader car;
  cbor::Decoder blocks;
  std::vector<uint8_t> out(8 << 20);
  firehose::Frame f;

  stage("parse", frames, seconds, [&](const test::Bytes& b) {
    RL_ASSERT(parser.parse(b, &f) == firehose::Error::ok);
  });
  stage("+car", frames, seconds, [&](const test::Bytes& b) {
    RL_ASSERT(parser.parse(b, &f) == firehose::Error::ok);
    RL_ASSERT(car.parse(f.blocks) == car::Error::ok);
  });
  stage("+blocks", frames, seconds, [&](const test::Bytes& b) {
    RL_ASSERT(parser.parse(b, &f) == firehose::Error::ok);
    RL_ASSERT(car.parse(f.blocks) == car::Error::ok);
    blocks.clear();
    for (const car::Block& blk : car.blocks()) RL_ASSERT(blocks.decode(blk.data).ok());
  });
  int64_t seq = 20000000000;
  std::vector<firehose::SeqLocation> locs;
  for (const auto& b : frames) {
    RL_ASSERT(parser.parse(b, &f) == firehose::Error::ok);
    locs.push_back(f.seq_location);
  }
  size_t i = 0;
  stage("patch", frames, seconds, [&](const test::Bytes& b) {
    size_t written = 0;
    RL_ASSERT(firehose::patch_seq_into(b, locs[i++ % locs.size()], seq++, out, &written) ==
              firehose::PatchError::ok);
  });
  return 0;
}
