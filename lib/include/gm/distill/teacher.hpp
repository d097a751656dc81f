// What every distillation method starts from: a diffusion teacher and the rows it models.
#pragma once

#include <map>
#include <string>

#include "gm/io/model_file.hpp"
#include "gm/models/diffusion.hpp"
#include "gm/train/loop.hpp"

namespace gm::distill {

struct TeacherRun {
  io::Input input;        // the teacher's file, for provenance
  io::ModelFile file;     // its contents, to build students from
  models::DiffusionModel teacher;  // EMA weights, on the run's device, in eval mode
  train::TrainingData data;
  double label_dropout = 0;  // the teacher's, so that students keep an unconditional mode too

  // A fresh copy of the teacher's network (EMA weights) on the run's device.
  models::DiffusionModel copy(const Context& context) const;
  // The labels of the batch `batches` last drew, some dropped as the teacher's were; undefined
  // for an unconditional teacher.
  torch::Tensor labels(const train::ShuffledBatches& batches, at::Generator& generator) const;
  // One distillation step's draws, this rank's rows of each: the clean rows, their labels, a
  // step index in [0, steps) per row and unit noise. They are drawn for the whole batch, in this
  // order, so every rank draws what one process would.
  struct Draws {
    torch::Tensor y, labels, step, noise;
  };
  Draws draw(train::ShuffledBatches& batches, at::Generator& generator, std::int64_t steps,
             const train::DataParallel& parallel) const;
  // {"path", "sha256"} of the teacher, for the student's config.
  nlohmann::json reference() const;
};

// The update of a consistency student after its loss (consistency and lcm): the gradients summed
// over the ranks, Adam, the target network theta^- <- mu theta^- + (1 - mu) theta, and the weight
// average. Returns the losses as reduce gives them.
std::map<std::string, double> update_consistency_student(const torch::Tensor& loss, train::FlatParameters& parameters,
                                                         train::FlatParameters& target, double target_ema,
                                                         train::Adam& adam, train::WeightAverage& ema,
                                                         train::DataParallel& parallel);

// Opens the teacher and the dataset, checking that the teacher models rows like the data's.
TeacherRun load_teacher(const std::string& teacher_path, const std::string& data_path, const Context& context,
                        const std::string& method);

}  // namespace gm::distill
