#include "gm/train/train.hpp"

namespace gm::train {

// Families add themselves here as they land (gan, diffusion, vae, vqvae, classifier).
std::vector<cli::Verb> families() { return {}; }

}  // namespace gm::train
