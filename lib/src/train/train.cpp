#include "gm/train/train.hpp"

#include "gm/train/diffusion.hpp"

namespace gm::train {

// Families add themselves here as they land (gan, vae, vqvae, classifier).
std::vector<cli::Verb> families() { return {diffusion_verb()}; }

}  // namespace gm::train
