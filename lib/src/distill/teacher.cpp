#include "gm/distill/teacher.hpp"

#include "gm/base/error.hpp"

namespace gm::distill {

models::DiffusionModel TeacherRun::copy(const Context& context) const {
  models::DiffusionModel model = models::DiffusionModel::from_file(file, input.path, true);
  model.net->to(context.device);
  return model;
}

nlohmann::json TeacherRun::reference() const { return {{"path", input.path}, {"sha256", input.record["sha256"]}}; }

TeacherRun load_teacher(const std::string& teacher_path, const std::string& data_path, const Context& context,
                        const std::string& method) {
  io::Input input = io::open_gm(teacher_path, {io::Kind::model});
  io::ModelFile file = io::read_model(input);
  models::DiffusionModel teacher = models::DiffusionModel::from_file(file, teacher_path, true);
  train::VectorData data = train::load_vectors(data_path, context, method);
  if (std::vector<std::int64_t>{data.x.size(1)} != teacher.data_shape)
    fail("{}: rows have {} dims, the teacher {} models {}", data_path, data.x.size(1), teacher_path,
         teacher.data_shape.at(0));
  teacher.net->to(context.device);
  teacher.net->eval();
  return {std::move(input), std::move(file), std::move(teacher), std::move(data)};
}

}  // namespace gm::distill
