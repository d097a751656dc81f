// gm-train classifier: a conv classifier of labelled images, the feature extractor and class
// judge of gm-eval; its accuracy on a held-out set is recorded in the file.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::train {

struct ClassifierTrainOptions {
  LoopOptions loop;
  std::string test;  // held-out dataset whose accuracy the file records
  double learning_rate = 1e-3;
  std::int64_t width = 32;
  std::int64_t features = 128;

  void register_on(CLI::App& app);
};

void train_classifier(const ClassifierTrainOptions& options, const Context& context);

cli::Verb classifier_verb();

}  // namespace gm::train
