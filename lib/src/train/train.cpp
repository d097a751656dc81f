#include "gm/train/train.hpp"

#include "gm/train/autoencoder.hpp"
#include "gm/train/classifier.hpp"
#include "gm/train/diffusion.hpp"
#include "gm/train/gan.hpp"

namespace gm::train {

std::vector<cli::Verb> families() { return {gan_verb(), diffusion_verb(), vae_verb(), vqvae_verb(), classifier_verb()}; }

}  // namespace gm::train
