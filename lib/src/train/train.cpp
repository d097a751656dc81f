#include "gm/train/train.hpp"

#include "gm/train/diffusion.hpp"
#include "gm/train/gan.hpp"

namespace gm::train {

// Families add themselves here as they land (vae, vqvae, classifier).
std::vector<cli::Verb> families() { return {gan_verb(), diffusion_verb()}; }

}  // namespace gm::train
