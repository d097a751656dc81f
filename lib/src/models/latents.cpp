#include "gm/models/latents.hpp"

#include <filesystem>

#include "gm/base/error.hpp"
#include "gm/io/model_file.hpp"

namespace gm::models {

LatentSpace latent_space_of(const io::Input& input, const AutoencoderModel& model) {
  std::error_code error;
  const std::filesystem::path absolute = input.path == "-" ? std::filesystem::path() : std::filesystem::absolute(input.path, error);
  return {input.record.at("sha256").get<std::string>(), absolute.string(), model.family()};
}

void mark_latents(const h5::Group& root, const LatentSpace& space) {
  root.set_attr("space", space.space);
  io::set_json_attr(root, "autoencoder", space.to_json());
}

std::optional<LatentSpace> read_latent_space(const h5::Group& root, const std::string& where) {
  if (!root.has_attr("space")) return std::nullopt;
  try {
    LatentSpace space;
    if (root.has_attr("autoencoder")) space = LatentSpace::from_json(io::json_attr(root, "autoencoder"));
    space.space = root.string_attr("space");
    return LatentSpace::from_json(space.to_json());
  } catch (const nlohmann::json::exception& e) {
    fail("{}: its autoencoder attribute is malformed: {}", where, e.what());
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
}

void check_latent_space(const LatentSpace& space, const io::Input& autoencoder, const std::string& what) {
  const std::string hash = autoencoder.record.at("sha256").get<std::string>();
  if (hash != space.space)
    fail("{}: holds latents of the autoencoder {} (sha256 {}), not of {} (sha256 {}); decode them with the "
         "autoencoder that made them",
         what, space.path.empty() ? "from stdin" : space.path, space.space.substr(0, 16), autoencoder.path,
         hash.substr(0, 16));
}

OpenedAutoencoder open_autoencoder(const LatentSpace& space, const std::string& path, const std::string& near,
                                   const Context& context) {
  std::string chosen = path;
  if (chosen.empty()) {
    const std::filesystem::path recorded(space.path);
    const std::filesystem::path beside = std::filesystem::path(near).parent_path() / recorded.filename();
    std::error_code error;
    if (!space.path.empty() && std::filesystem::exists(recorded, error)) chosen = recorded.string();
    else if (!space.path.empty() && std::filesystem::exists(beside, error)) chosen = beside.string();
    else
      fail("{}: its autoencoder {} is not there any more; give it with --autoencoder FILE", near,
           space.path.empty() ? "(read from stdin)" : space.path);
  }
  io::Input input = io::open_gm(chosen, {io::Kind::model});
  check_latent_space(space, input, near);
  AutoencoderModel model = AutoencoderModel::from_file(io::read_model(input), chosen);
  model.net->to(context.device);
  return {std::move(input), std::move(model)};
}

}  // namespace gm::models
