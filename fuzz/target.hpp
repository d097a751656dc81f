// One fuzz input through one reader. A gm::Error is the expected answer to a bad file; anything
// else that escapes (another exception, a crash, a sanitizer report, an allocation past the
// fuzzer's cap) is a finding. The same file builds under libFuzzer (scripts/fuzz.sh) and, with
// replay_main.cpp, as a plain program that replays the kept corpus in the test suite.
// GM_FUZZ_VERBOSE=1 prints each input's error, to see how deep a seed gets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gm/base/error.hpp"

#define GM_FUZZ_TARGET(bytes)                                                          \
  static void gm_fuzz_one(const std::string& bytes);                                  \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    try {                                                                              \
      gm_fuzz_one(std::string(reinterpret_cast<const char*>(data), size));            \
    } catch (const gm::Error& error) {                                                 \
      if (std::getenv("GM_FUZZ_VERBOSE")) std::fprintf(stderr, "%s\n", error.what());  \
    }                                                                                  \
    return 0;                                                                          \
  }                                                                                    \
  static void gm_fuzz_one(const std::string& bytes)
