// PyTorch checkpoints (.pt, .pth): the zip archive of a pickle that torch.save writes, tensor data
// in archive/data/N. gm writes a plain dict of tensors that torch.load(weights_only=True) reads,
// and reads with a restricted unpickler of its own: only the opcodes and globals a state_dict
// needs (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and _rebuild_parameter, the
// torch storage types); any other global is refused by name and nothing is ever executed.
#pragma once

#include <string>

#include "gm/io/tensor_file.hpp"

namespace gm::io {

// The bytes of a .pt file holding {name: tensor, ..., "__metadata__": {key: text}}.
std::string encode_torch_checkpoint(const TensorFile& checkpoint);

// Reads a .pt file. The pickled object must be a dict (or OrderedDict) of tensors; `key` picks
// a nested one ({"model": state_dict, "step": N} with key "model"). Entries that are not
// tensors are skipped, except a "__metadata__" dict of strings; `where` names the file in errors.
TensorFile parse_torch_checkpoint(const std::string& bytes, const std::string& where, const std::string& key = "");

}  // namespace gm::io
