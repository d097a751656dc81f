// Shapes as text for messages: "[1000, 2]".
#pragma once

#include <string>

#include <c10/util/ArrayRef.h>
#include <fmt/format.h>

namespace gm {

inline std::string shape_text(c10::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace gm
