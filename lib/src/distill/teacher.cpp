#include "gm/distill/teacher.hpp"

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/kernels/cpu.hpp"

namespace gm::distill {

models::DiffusionModel TeacherRun::copy(const Context& context) const {
  models::DiffusionModel model = models::DiffusionModel::from_file(file, input.path, true);
  model.net->to(context.device);
  return model;
}

torch::Tensor TeacherRun::labels(const train::ShuffledBatches& batches, at::Generator& generator) const {
  if (!data.y.defined()) return {};
  return train::drop_labels(data.y.index_select(0, batches.last_rows()), data.info.classes(), label_dropout, generator);
}

TeacherRun::Draws TeacherRun::draw(train::ShuffledBatches& batches, at::Generator& generator, std::int64_t steps,
                                   const train::DataParallel& parallel) const {
  const torch::Tensor batch = batches.next();
  const torch::Tensor dropped = labels(batches, generator);
  const torch::Tensor step = torch::randint(0, steps, {batch.size(0)}, generator, torch::kLong).to(batch.device());
  const torch::Tensor noise = torch::randn(batch.sizes(), generator, torch::kFloat).to(batch.device());
  return {parallel.local(batch), parallel.local(dropped), parallel.local(step), parallel.local(noise)};
}

nlohmann::json TeacherRun::reference() const { return {{"path", input.path}, {"sha256", input.record["sha256"]}}; }

std::map<std::string, double> update_consistency_student(const torch::Tensor& loss, train::FlatParameters& parameters,
                                                         train::FlatParameters& target, double target_ema,
                                                         train::Adam& adam, train::WeightAverage& ema,
                                                         train::DataParallel& parallel) {
  loss.backward();
  const std::map<std::string, double> losses = parallel.reduce(parameters, {{"loss", loss}});
  adam.step();
  kernels::move_average(target.values(), parameters.values(), 1.0 - target_ema);
  ema.update();
  return losses;
}

TeacherRun load_teacher(const std::string& teacher_path, const std::string& data_path, const Context& context,
                        const std::string& method) {
  io::Input input = io::open_gm(teacher_path, {io::Kind::model});
  io::ModelFile file = io::read_model(input);
  models::DiffusionModel teacher = models::DiffusionModel::from_file(file, teacher_path, true);
  train::TrainingData data = train::load_training_data(data_path, context, method, teacher.data.is_spatial(),
                                                      teacher.data.classes() > 0 ? "yes" : "no");
  if (data.info.shape != teacher.data.shape || data.info.image_range != teacher.data.image_range)
    fail("{}: rows of shape {} do not match those the teacher {} models, {}", data_path, shape_text(data.info.shape),
         teacher_path, shape_text(teacher.data.shape));
  if (teacher.data.latent && (!data.info.latent || data.info.latent->space != teacher.data.latent->space))
    fail("{}: the teacher {} models latents of the autoencoder {}, and these rows are {}", data_path, teacher_path,
         teacher.data.latent->path, data.info.latent ? "latents of another (space " + data.info.latent->space.substr(0, 16) + ")" : "not latents");
  if (data.info.classes() != teacher.data.classes())
    fail("{}: has {} classes, the teacher {} was trained on {}", data_path, data.info.classes(), teacher_path,
         teacher.data.classes());
  teacher.net->to(context.device);
  teacher.net->eval();
  const double label_dropout = file.config.value("label_dropout", 0.0);
  return {std::move(input), std::move(file), std::move(teacher), std::move(data), label_dropout};
}

}  // namespace gm::distill
