// SPDX-License-Identifier: MIT
// A minimal test harness for the native core: TEST registers a case, CHECK records a failure
// and carries on, REQUIRE stops the case. No exceptions (the core is built without them).
#pragma once

#include <cstdint>
#include <type_traits>
#include <cstdio>
#include <string>
#include <string_view>

namespace ringlay::test {

using TestFn = void (*)();

struct Registration {
  Registration(const char* name, const char* file, TestFn fn);
};

// Records a failure for the running case; returns false so REQUIRE can return early.
bool fail(const char* file, int line, const std::string& what);

// Path of ../shared (the steering repo's shared data), or "" when it is absent.
std::string shared_dir();

// Marks the running case as skipped with a reason (e.g. a missing fixture or kernel feature).
void skip(const std::string& reason);

std::string hex(std::string_view bytes);

}  // namespace ringlay::test

#define RL_TEST_CAT2(a, b) a##b
#define RL_TEST_CAT(a, b) RL_TEST_CAT2(a, b)
#define TEST(name)                                                                     \
  static void name();                                                                  \
  static ::ringlay::test::Registration RL_TEST_CAT(reg_, name)(#name, __FILE__, name); \
  static void name()

#define CHECK(cond) \
  ((cond) ? true : ::ringlay::test::fail(__FILE__, __LINE__, "CHECK(" #cond ")"))
#define CHECK_EQ(a, b)                                                                  \
  (((a) == (b)) ? true                                                                  \
                : ::ringlay::test::fail(__FILE__, __LINE__,                              \
                                        "CHECK_EQ(" #a ", " #b ") got " +               \
                                            ::ringlay::test::show(a) + " vs " +          \
                                            ::ringlay::test::show(b)))
#define REQUIRE(cond) \
  do {                \
    if (!CHECK(cond)) return; \
  } while (0)

namespace ringlay::test {
inline std::string show(const std::string& s) { return "\"" + s + "\""; }
inline std::string show(std::string_view s) { return show(std::string(s)); }
inline std::string show(const char* s) { return show(std::string(s)); }
inline std::string show(bool v) { return v ? "true" : "false"; }
template <typename T>
std::string show(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<long long>(v));
  } else if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(v);
  } else {
    return "<value>";
  }
}
}  // namespace ringlay::test
