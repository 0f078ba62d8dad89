// SPDX-License-Identifier: MIT
// For other native/napi files (the commit validator, VerifyPool): get the native KeyCache
// behind a JS `KeyCache` object made by crypto.cc, so a pool built in JS can read the same
// cache that the identity layer fills.
#pragma once

#include <napi.h>

#include <memory>

#include "verify/key_cache.h"

namespace ringlay::napi {

// The cache behind a JS KeyCache instance, or null when `value` is not one (checked with a
// napi type tag, not by trusting the object's shape).
std::shared_ptr<verify::KeyCache> unwrap_key_cache(Napi::Value value);

}  // namespace ringlay::napi
