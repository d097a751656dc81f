// What every library operation needs to know about the run that called it.
#pragma once

#include <cstdint>
#include <string>

#include <c10/core/Device.h>

namespace gm {

struct Context {
  std::string command_line;        // recorded as created_by in every output file
  c10::Device device = c10::kCPU;  // where tensors live
  std::uint64_t seed = 0;          // the root of every random stream of the run
  int threads = 1;                 // intra-op threads in use
};

}  // namespace gm
