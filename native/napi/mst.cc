// SPDX-License-Identifier: MIT
// JS access to native/mst for tests and tools (the relay's verify workers call
// mst::invert_commit natively; nothing on the hot path crosses here):
//   mstInvertCommit(car, ops, data, prevData?, {requireRecordBlocks?})
//     -> {ok, reason, opIndex, nodeError, root, nodesLoaded, nodesHashed}
//        ops: [{action, path, cid: string|null, prev?: string|null}], CIDs as "b..." strings;
//        a CAR that does not parse gives {ok: false, reason: 'bad_car', carError}
//   mstRoot([[path, cid], ...]) -> {ok: true, root} | {ok: false, reason}
// Domain failures come back as values with the stable reason names; only misuse (wrong
// argument types) throws.
#include <napi.h>

#include <string>
#include <vector>

#include "car/car.h"
#include "cid/cid.h"
#include "mst/invert.h"
#include "mst/tree.h"
#include "napi/registry.h"

namespace ringlay::napi {
namespace {

Napi::Value type_error(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// A CID argument: a "b..." string, or null/undefined for none. False when malformed.
bool cid_arg(Napi::Value v, cid::Cid& out) {
  out = cid::Cid();
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsString()) return false;
  return cid::parse_string(v.As<Napi::String>().Utf8Value(), &out) == cid::Error::ok;
}

Napi::Value invert_commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "mstInvertCommit(car: Uint8Array, ops: object[], data: string, prevData?: string, options?: object)";
  if (!info[0].IsTypedArray() || !info[1].IsArray() || !info[2].IsString()) return type_error(env, usage);
  auto car_bytes = info[0].As<Napi::Uint8Array>();
  cid::Cid data, prev_data;
  if (!cid_arg(info[2], data) || !cid_arg(info[3], prev_data)) return type_error(env, usage);
  mst::InvertOptions options;
  if (info[4].IsObject()) {
    options.require_record_blocks = info[4].As<Napi::Object>().Get("requireRecordBlocks").ToBoolean();
  }

  Napi::Array list = info[1].As<Napi::Array>();
  const uint32_t n = list.Length();
  std::vector<std::string> actions(n), paths(n);
  std::vector<cid::Cid> cids(n), prevs(n);
  std::vector<mst::Op> ops(n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) return type_error(env, usage);
    Napi::Object op = item.As<Napi::Object>();
    if (!op.Get("action").IsString() || !op.Get("path").IsString() ||
        !cid_arg(op.Get("cid"), cids[i]) || !cid_arg(op.Get("prev"), prevs[i])) {
      return type_error(env, "op: {action: string, path: string, cid: string|null, prev?: string|null}");
    }
    actions[i] = op.Get("action").As<Napi::String>().Utf8Value();
    paths[i] = op.Get("path").As<Napi::String>().Utf8Value();
    ops[i] = mst::Op{actions[i], paths[i], cids[i].view(), prevs[i].view()};
  }

  Napi::Object result = Napi::Object::New(env);
  car::Reader reader;
  const car::Error ce = reader.parse({car_bytes.Data(), car_bytes.ByteLength()});
  if (ce != car::Error::ok) {
    result.Set("ok", false);
    result.Set("reason", "bad_car");
    result.Set("carError", car::name(ce));
    return result;
  }
  mst::BlockSourceOf<car::Reader> blocks(reader);
  mst::Workspace ws;
  const mst::InvertResult r = mst::invert_commit(ws, ops, blocks, data.view(), prev_data.view(), options);
  result.Set("ok", r.ok());
  result.Set("reason", mst::name(r.reason));
  result.Set("opIndex", r.op_index);
  result.Set("nodeError", mst::name(r.node_error));
  if (!r.root.empty()) result.Set("root", cid::to_string(r.root.view()));
  result.Set("nodesLoaded", r.nodes_loaded);
  result.Set("nodesHashed", r.nodes_hashed);
  return result;
}

Napi::Value root_of(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "mstRoot(entries: [path: string, cid: string][])";
  if (!info[0].IsArray()) return type_error(env, usage);
  Napi::Array list = info[0].As<Napi::Array>();
  const uint32_t n = list.Length();
  std::vector<std::string> keys(n);
  std::vector<cid::Cid> values(n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsArray()) return type_error(env, usage);
    Napi::Array pair = item.As<Napi::Array>();
    if (!pair.Get(0u).IsString() || !cid_arg(pair.Get(1u), values[i]) || values[i].empty()) {
      return type_error(env, usage);
    }
    keys[i] = pair.Get(0u).As<Napi::String>().Utf8Value();
  }
  mst::Workspace ws;
  mst::Tree tree(ws, nullptr);
  tree.open_empty();
  Napi::Object result = Napi::Object::New(env);
  for (uint32_t i = 0; i < n; ++i) {
    cid::CidView previous;
    const mst::Reason r = tree.put(keys[i], values[i].view(), &previous);
    if (r != mst::Reason::ok) {
      result.Set("ok", false);
      result.Set("reason", mst::name(r));
      return result;
    }
  }
  result.Set("ok", true);
  result.Set("root", cid::to_string(tree.root_cid().view()));
  return result;
}

void export_mst(Napi::Env env, Napi::Object exports) {
  exports.Set("mstInvertCommit", Napi::Function::New(env, invert_commit, "mstInvertCommit"));
  exports.Set("mstRoot", Napi::Function::New(env, root_of, "mstRoot"));
}

}  // namespace
}  // namespace ringlay::napi

RINGLAY_NAPI_EXPORT(mst, ringlay::napi::export_mst);
