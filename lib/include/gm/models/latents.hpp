// Files of latents: datasets or samples whose root attribute `space` names, by SHA-256, the
// autoencoder that decodes them (DESIGN §3), and finding that autoencoder again.
#pragma once

#include <optional>
#include <string>

#include "gm/base/context.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/models/autoencoder.hpp"
#include "gm/models/data_info.hpp"

namespace gm::models {

// The latent space of the autoencoder file opened as `input`.
LatentSpace latent_space_of(const io::Input& input, const AutoencoderModel& model);

// Root attributes `space` (the hash) and `autoencoder` (JSON: space, path, family).
void mark_latents(const h5::Group& root, const LatentSpace& space);
// The space a file's latents are in, or none for a file that does not hold latents.
std::optional<LatentSpace> read_latent_space(const h5::Group& root, const std::string& where);

// Fails, naming both, unless the autoencoder opened as `autoencoder` is the one whose latents
// `what` holds.
void check_latent_space(const LatentSpace& space, const io::Input& autoencoder, const std::string& what);

struct OpenedAutoencoder {
  io::Input input;
  AutoencoderModel model;  // on the context's device, in eval mode
};
// The autoencoder of `space`: from `path` when given, else from where the space records it,
// else from beside `near` (a file that came with it); its hash must match.
OpenedAutoencoder open_autoencoder(const LatentSpace& space, const std::string& path, const std::string& near,
                                   const Context& context);

}  // namespace gm::models
