#include "gm/convert/import.hpp"

#include <fstream>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"

namespace gm::convert {

std::vector<RenameRule> read_rules(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot read the rules file", path);
  std::vector<RenameRule> rules;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    const size_t gap = line.find_first_of(" \t", start);
    const size_t replacement = gap == std::string::npos ? std::string::npos : line.find_first_not_of(" \t", gap);
    if (replacement == std::string::npos) fail("{}:{}: expected 'REGEX REPLACEMENT'", path, number);
    const size_t end = line.find_last_not_of(" \t\r");
    RenameRule rule{line.substr(start), {}, line.substr(replacement, end + 1 - replacement)};
    try {
      rule.pattern = std::regex(line.substr(start, gap - start));
    } catch (const std::regex_error& e) {
      fail("{}:{}: bad regular expression: {}", path, number, e.what());
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string rename(const std::string& name, const std::vector<RenameRule>& rules) {
  for (const RenameRule& rule : rules)
    if (std::regex_match(name, rule.pattern)) return std::regex_replace(name, rule.pattern, rule.replacement);
  return name;
}

Import import_weights(const io::TensorFile& foreign, const io::ModelFile& like, const std::vector<RenameRule>& rules) {
  Import out;
  out.model.family = like.family;
  out.model.config = like.config;
  out.model.params = like.params;
  out.model.buffers = like.buffers;
  std::map<std::string, std::string> filled_by;
  for (const auto& [name, tensor] : foreign.tensors) {
    const std::string target = rename(name, rules);
    auto* group = out.model.params.count(target) ? &out.model.params
                  : out.model.buffers.count(target) ? &out.model.buffers
                                                     : nullptr;
    if (!group) {
      out.unmapped.push_back(name == target ? name : name + " -> " + target);
      continue;
    }
    torch::Tensor& slot = group->at(target);
    if (tensor.sizes() != slot.sizes()) {
      out.mismatched.push_back(fmt::format("{}: foreign {}, model {}", target, shape_text(tensor.sizes()), shape_text(slot.sizes())));
      continue;
    }
    if (filled_by.count(target)) fail("{} and {} both rename to {}", filled_by.at(target), name, target);
    filled_by.emplace(target, name);
    slot = tensor.to(slot.scalar_type());
  }
  for (const auto* group : {&like.params, &like.buffers})
    for (const auto& [name, tensor] : *group)
      if (!filled_by.count(name)) out.unused.push_back(name);
  return out;
}

}  // namespace gm::convert
