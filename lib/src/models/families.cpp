#include "gm/models/families.hpp"

#include "gm/base/error.hpp"
#include "gm/models/autoencoder.hpp"
#include "gm/models/diffusion.hpp"
#include "gm/models/classifier.hpp"
#include "gm/models/gan.hpp"

namespace gm::models {

void check_model_file(const io::ModelFile& file, const std::string& where) {
  torch::NoGradGuard no_grad;
  if (file.family == "diffusion" || file.family == "consistency")
    DiffusionModel::from_file(file, where, true, file.family);
  else if (file.family == "gan")
    gan_from_file(file, where);
  else if (models::is_autoencoder_family(file.family))
    AutoencoderModel::from_file(file, where);
  else if (file.family == "classifier")
    classifier_from_file(file, where);
  else
    fail("{}: model family '{}' is not one this build knows (diffusion, consistency, gan, vae, vqvae, classifier)", where,
         file.family);
}

}  // namespace gm::models
