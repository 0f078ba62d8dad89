// SPDX-License-Identifier: MIT
// The relay pipeline's JS payloads (relay.cc documents the shapes). Built for tens of thousands
// of events a second: the summaries cross as one Float64Array of numbers and one array of
// strings (a fixed stride per event), and lib/relay/pipeline.ts makes the EventSummary objects
// with object literals (fast, one hidden class per event type). Each string is a flat V8
// string of its own: slicing one big batch string would be cheaper here but would keep the
// whole batch alive for as long as the policy keeps any DID from it.
#include <napi.h>

#include <algorithm>

#include "cid/cid.h"
#include "napi/relay.h"

namespace ringlay::napi {

namespace {

namespace fh = ringlay::firehose;
using relay::Output;
using relay::SummaryRecord;

constexpr uint32_t kNums = 10;  // id, host, upstreamSeq, type, verdict, keyVersion, frameBytes,
                                // flags, opCount, active
constexpr uint32_t kStrs = 7;   // did, time, a, b, prevData, dataCid, commitCid
constexpr uint32_t kReasons = static_cast<uint32_t>(fh::Reason::cancelled) + 1;
constexpr uint32_t kOutOfOrder = kReasons;  // verdict index of seq_out_of_order

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

class Strings {
 public:
  Strings(napi_env env, size_t count) : env_(env) { napi_create_array_with_length(env, count, &arr_); }
  void set(uint32_t index, std::string_view s) {
    napi_value v;
    if (ascii(s)) napi_create_string_latin1(env_, s.data(), s.size(), &v);
    else napi_create_string_utf8(env_, s.data(), s.size(), &v);
    napi_set_element(env_, arr_, index, v);
  }
  void set_null(uint32_t index) {
    napi_value v;
    napi_get_null(env_, &v);
    napi_set_element(env_, arr_, index, v);
  }
  void set_cid(uint32_t index, cid::CidView c) {
    if (c.empty()) return;
    char buf[cid::kMaxStringSize];
    size_t n = cid::format(c, buf);
    napi_value v;
    napi_create_string_latin1(env_, buf, n, &v);
    napi_set_element(env_, arr_, index, v);
  }
  void set_nonempty(uint32_t index, std::string_view s) {
    if (!s.empty()) set(index, s);
  }
  napi_value value() const { return arr_; }

 private:
  napi_env env_;
  napi_value arr_;
};

void put_strings(Strings& strs, uint32_t base, const fh::Summary& s) {
  strs.set_nonempty(base, s.did);
  strs.set_nonempty(base + 1, s.time);
  switch (s.type) {
    case fh::Type::commit:
      strs.set_nonempty(base + 2, s.rev);
      if (s.since) strs.set(base + 3, *s.since);
      else strs.set_null(base + 3);
      strs.set_cid(base + 4, s.prev_data);
      strs.set_cid(base + 5, s.data);
      strs.set_cid(base + 6, s.commit);
      break;
    case fh::Type::sync:
      strs.set_nonempty(base + 2, s.rev);
      strs.set_cid(base + 5, s.data);
      strs.set_cid(base + 6, s.commit);
      break;
    case fh::Type::account:
      if (s.status) strs.set(base + 2, *s.status);
      break;
    case fh::Type::identity:
      if (s.handle) strs.set(base + 2, *s.handle);
      break;
    case fh::Type::info:
    case fh::Type::error:
      strs.set(base + 2, s.name);
      if (s.message) strs.set(base + 3, *s.message);
      break;
    case fh::Type::unknown: break;
  }
}

void put_event(double* nums, Strings& strs, uint32_t index, const SummaryRecord& r) {
  double* n = nums + size_t{index} * kNums;
  const fh::Verdict& v = r.verdict;
  n[0] = static_cast<double>(r.id);
  n[1] = r.host;
  n[2] = static_cast<double>(r.upstream_seq);
  n[6] = r.frame_bytes;
  if (r.out_of_order) {
    n[3] = static_cast<double>(fh::Type::unknown);
    n[4] = kOutOfOrder;
    return;
  }
  n[3] = static_cast<double>(v.summary.type);
  n[4] = static_cast<double>(v.reason);
  n[5] = static_cast<double>(v.key_version);
  n[7] = v.flags;
  n[8] = v.summary.ops;
  n[9] = v.summary.active ? 1 : 0;
  put_strings(strs, index * kStrs, v.summary);
}

Napi::Float64Array pairs(Napi::Env env, size_t count, uint32_t stride) {
  return Napi::Float64Array::New(env, count * stride);
}

}  // namespace

// {n, nums, strs, writtenIds, writtenSeqs, notice, durableSeq, hosts: [host, pending, paused]*,
//  pauses: [conn, pause]*, published, closed, failure?}
Napi::Object output_payload(Napi::Env env, std::vector<Output>& outputs) {
  size_t n = 0, written = 0, hosts = 0, pauses = 0;
  for (const Output& o : outputs) {
    n += o.events.size();
    written += o.written_ids.size();
    hosts += o.hosts.size();
    pauses += o.pauses.size();
  }
  Napi::Float64Array nums = Napi::Float64Array::New(env, n * kNums);
  Strings strs(env, n * kStrs);
  Napi::Float64Array ids = Napi::Float64Array::New(env, written);
  Napi::Float64Array seqs = Napi::Float64Array::New(env, written);
  Napi::Float64Array host_arr = pairs(env, hosts, 3);
  Napi::Float64Array pause_arr = pairs(env, pauses, 2);
  uint32_t ei = 0;
  size_t wi = 0, hi = 0, pi = 0;
  bool notice = false, published = false, closed = false;
  double durable = 0;
  const char* failure = nullptr;
  for (Output& o : outputs) {
    for (const SummaryRecord& r : o.events) put_event(nums.Data(), strs, ei++, r);
    for (size_t i = 0; i < o.written_ids.size(); ++i, ++wi) {
      ids[wi] = static_cast<double>(o.written_ids[i]);
      seqs[wi] = static_cast<double>(o.written_seqs[i]);
    }
    for (const relay::HostUpdate& h : o.hosts) {
      host_arr[hi++] = h.host;
      host_arr[hi++] = h.pending;
      host_arr[hi++] = h.paused ? 1 : 0;
    }
    for (const relay::ConnPause& p : o.pauses) {
      pause_arr[pi++] = static_cast<double>(p.conn);
      pause_arr[pi++] = p.pause ? 1 : 0;
    }
    notice |= o.notice;
    durable = std::max(durable, static_cast<double>(o.durable_seq));
    published |= o.published;
    closed |= o.closed;
    if (!o.failure.ok()) failure = log_store::name(o.failure.reason);
  }
  Napi::Object p = Napi::Object::New(env);
  p.Set("n", Napi::Number::New(env, static_cast<double>(n)));
  p.Set("nums", nums);
  p.Set("strs", Napi::Value(env, strs.value()));
  p.Set("writtenIds", ids);
  p.Set("writtenSeqs", seqs);
  p.Set("notice", Napi::Boolean::New(env, notice));
  p.Set("durableSeq", Napi::Number::New(env, durable));
  p.Set("hosts", host_arr);
  p.Set("pauses", pause_arr);
  p.Set("published", Napi::Boolean::New(env, published));
  p.Set("closed", Napi::Boolean::New(env, closed));
  if (failure != nullptr) p.Set("failure", Napi::String::New(env, failure));
  return p;
}

Napi::Object payload_names(Napi::Env env) {
  Napi::Array types = Napi::Array::New(env);
  for (uint32_t t = 0; t <= static_cast<uint32_t>(fh::Type::unknown); ++t) types.Set(t, fh::name(static_cast<fh::Type>(t)));
  Napi::Array verdicts = Napi::Array::New(env);
  for (uint32_t r = 0; r < kReasons; ++r) verdicts.Set(r, fh::name(static_cast<fh::Reason>(r)));
  verdicts.Set(kOutOfOrder, "seq_out_of_order");
  Napi::Array flags = Napi::Array::New(env);
  for (uint32_t f = 0; f < fh::kFlagCount; ++f) flags.Set(f, fh::flag_name(f));
  Napi::Object o = Napi::Object::New(env);
  o.Set("types", types);
  o.Set("verdicts", verdicts);
  o.Set("flags", flags);
  o.Set("numStride", kNums);
  o.Set("strStride", kStrs);
  return o;
}

namespace {

bool bad(Napi::Env env, const char* what) {
  Napi::TypeError::New(env, what).ThrowAsJavaScriptException();
  return false;
}

std::optional<std::string> optional_text(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) return std::nullopt;
  return v.As<Napi::String>().Utf8Value();
}

bool parse_frame(Napi::Env env, Napi::Value v, relay::SynthFrame* f) {
  if (!v.IsObject()) return bad(env, "decide: frames must be SynthFrame objects");
  Napi::Object o = v.As<Napi::Object>();
  std::optional<std::string> type = optional_text(o, "type"), did = optional_text(o, "did"), time = optional_text(o, "time");
  if (!type || !did || !time || (*type != "account" && *type != "identity")) {
    return bad(env, "decide: a SynthFrame needs type 'account'|'identity', did and time");
  }
  f->kind = *type == "account" ? relay::SynthFrame::Kind::account : relay::SynthFrame::Kind::identity;
  f->did = std::move(*did);
  f->time = std::move(*time);
  f->active = o.Get("active").ToBoolean();
  f->status = optional_text(o, "status");
  f->handle = optional_text(o, "handle");
  return true;
}

}  // namespace

// decide(nums: Float64Array [action, id, frameIndex]*, frames?: SynthFrame[]); actions are
// relay::Action values (accept 0, drop 1, retry 2, replace 3, emit 4).
bool parse_decisions(Napi::Env env, const Napi::CallbackInfo& info, relay::DecisionBatch* out) {
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    return bad(env, "decide(nums: Float64Array, frames?: SynthFrame[])");
  }
  Napi::Float64Array nums = info[0].As<Napi::Float64Array>();
  if (info.Length() > 1 && info[1].IsArray()) {
    Napi::Array frames = info[1].As<Napi::Array>();
    out->frames.resize(frames.Length());
    for (uint32_t i = 0; i < frames.Length(); ++i) {
      if (!parse_frame(env, frames.Get(i), &out->frames[i])) return false;
    }
  }
  const size_t n = nums.ElementLength() / 3;
  out->decisions.resize(n);
  const double* p = nums.Data();
  for (size_t i = 0; i < n; ++i, p += 3) {
    if (!(p[0] >= 0 && p[0] <= static_cast<double>(relay::Action::emit)) || !(p[1] >= 0)) {
      return bad(env, "decide: bad action or id");
    }
    relay::Decision& d = out->decisions[i];
    d.action = static_cast<relay::Action>(static_cast<uint8_t>(p[0]));
    d.id = static_cast<uint64_t>(p[1]);
    d.frame = p[2] >= 0 && p[2] < static_cast<double>(out->frames.size()) ? static_cast<int32_t>(p[2]) : -1;
  }
  return true;
}

}  // namespace ringlay::napi
