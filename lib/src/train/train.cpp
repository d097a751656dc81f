#include "gm/train/train.hpp"

#include "gm/train/classifier.hpp"
#include "gm/train/diffusion.hpp"
#include "gm/train/gan.hpp"

namespace gm::train {

// Families add themselves here as they land (vae, vqvae).
std::vector<cli::Verb> families() { return {gan_verb(), diffusion_verb(), classifier_verb()}; }

}  // namespace gm::train
