// Importing foreign weights into a gm model: rename the foreign tensors with ordered regex
// rules, match them to the parameters and buffers of a gm model of the same architecture (the
// --like model), check every shape, and report all that did not fit.
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "gm/io/model_file.hpp"
#include "gm/io/tensor_file.hpp"

namespace gm::convert {

// One line of a rules file: "REGEX REPLACEMENT". The first rule whose regex matches a whole
// foreign name renames it ($1 ... refer to groups); a name no rule matches keeps its name.
struct RenameRule {
  std::string text;
  std::regex pattern;
  std::string replacement;
};
// Blank lines and lines starting with # are skipped.
std::vector<RenameRule> read_rules(const std::string& path);
std::string rename(const std::string& name, const std::vector<RenameRule>& rules);

struct Import {
  io::ModelFile model;                  // `like` with the imported params and buffers, no EMA or history
  std::vector<std::string> unmapped;    // foreign tensors whose (renamed) name the model lacks
  std::vector<std::string> unused;      // model parameters and buffers no foreign tensor filled
  std::vector<std::string> mismatched;  // "name: foreign SHAPE, model SHAPE"
  bool complete() const { return unmapped.empty() && unused.empty() && mismatched.empty(); }
};
Import import_weights(const io::TensorFile& foreign, const io::ModelFile& like, const std::vector<RenameRule>& rules);

}  // namespace gm::convert
