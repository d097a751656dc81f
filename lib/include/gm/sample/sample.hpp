// gm-sample as a library function: draw rows from a built-in source or a model into a
// samples (or dataset) file, streaming in chunks.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

#include "gm/base/context.hpp"

namespace gm::sample {

struct SampleOptions {
  std::string source;           // "toy:NAME" or a model file
  std::int64_t count = -1;      // -n: rows in the whole run (all shards together); -1: not given
  std::string output;           // -o, "-" for stdout
  std::string shard = "0/1";    // K/N: write only the K-th of N equal slices of the run
  std::int64_t chunk = 65536;   // rows generated and appended at a time
  std::string sampler;           // diffusion models: euler or heun; empty: the model's own
  int steps = 0;                 // 0: the model's own (18, a distilled grid, or 1)
  bool raw_weights = false;      // sample with the trained weights rather than their EMA
  std::int64_t klass = -1;       // --class: every row of this class; -1 draws classes from the prior
  double guidance = 0;           // classifier-free guidance weight w (0: none)
  std::string encode;            // --encode FILE: images the autoencoder source maps to latents
  std::string decode;            // --decode FILE: latents the autoencoder source maps to images
  bool decode_samples = false;   // --decode alone: a latent model's samples, decoded by its autoencoder
  std::string autoencoder;       // --autoencoder FILE: that autoencoder, when not where it was recorded
  std::string cuda_graph = "auto";  // auto, on, off: replay the sampler as one CUDA graph
  std::string precision = "fp32";   // fp32, bf16, fp16: autocast for the networks

  void register_on(CLI::App& app);
};

void run(const SampleOptions& options, const Context& context);

}  // namespace gm::sample
