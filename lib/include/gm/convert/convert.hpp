// gm-convert as a library function: move gm files between containers and describe them.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}
#include <nlohmann/json.hpp>

#include "gm/base/context.hpp"
#include "gm/io/h5.hpp"

namespace gm::convert {

struct ConvertOptions {
  std::vector<std::string> files;  // INPUT [OUTPUT], or merge SHARD...
  std::string input;   // "-" reads stdin
  std::string output;  // "-" writes stdout; the extension picks the format
  std::string key;     // a .pt input's nested dict that holds the tensors
  std::string like;    // import foreign weights into a copy of this gm model
  std::string map;     // rename rules for --like
  bool allow_partial = false;
  bool describe = false;
  bool json = false;  // --describe as JSON
  std::int64_t image_size = 0;   // --size: of a scatter PNG (default 512), or of imported images
  std::string labels;            // --labels: IDX or .npy labels for the imported rows
  std::string class_names;       // --class-names a,b,c
  double imbalance = 0;          // --imbalance: long-tail subsampling factor (0: off)
  std::string grid;              // --grid RxC of an image grid PNG

  void register_on(CLI::App& app);
};

// An HDF5 object's attributes as JSON; string attributes holding JSON objects (config,
// provenance) are parsed.
nlohmann::json attributes_json(const h5::Object& object);

// Joins the --shard K/N files of one gm-sample run into one file: refuses shards of different
// runs (any setting differs), a missing or doubled shard, or rows that do not tile the run.
void merge_shards(const std::vector<std::string>& paths, const std::string& output, const Context& context);

// Everything a gm file says about itself: kind, attributes, datasets with shapes and types,
// and its provenance chain.
nlohmann::json describe(const h5::File& file);

void run(const ConvertOptions& options, const Context& context);

}  // namespace gm::convert
