#include "gm/train/classifier.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/models/classifier.hpp"

namespace gm::train {

void ClassifierTrainOptions::register_on(CLI::App& app) {
  loop.register_on(app);
  app.add_option("--test", test, "Held-out labelled dataset; the file records the classifier's accuracy on it")
      ->type_name("FILE");
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  app.add_option("--width", width, "Channels of the first convolutions (doubled after the first pooling)")
      ->capture_default_str();
  app.add_option("--features", features, "Width of the hidden layer, the features gm-eval compares")
      ->capture_default_str();
}

namespace {

// The fraction of rows whose most likely class is their label.
double accuracy(models::Classifier& classifier, const torch::Tensor& x, const torch::Tensor& y) {
  classifier.net->eval();
  const torch::Tensor logits = classifier.features_and_logits(x).second;
  classifier.net->train();
  return logits.argmax(1).eq(y.to(torch::kCPU)).to(torch::kDouble).mean().item<double>();
}

}  // namespace

void train_classifier(const ClassifierTrainOptions& options, const Context& context) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  if (options.width < 1 || options.features < 1) usage_fail("--width and --features must be positive");
  const TrainingData data = load_training_data(options.loop.data, context, "classifier", true, "yes");
  if (!data.info.is_image()) fail("{}: gm-train classifier takes images [N, C, H, W]", options.loop.data);
  std::optional<TrainingData> test;
  if (!options.test.empty()) {
    test = load_training_data(options.test, context, "classifier", true, "yes");
    if (test->info.shape != data.info.shape || test->info.classes() > data.info.classes())
      fail("{}: its images or classes do not match those of {}", options.test, options.loop.data);
  }

  DataParallel parallel(context, options.loop);
  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  models::Classifier classifier;
  classifier.data = data.info;
  nn::ConvClassifierConfig config{data.info.shape[0], data.info.shape[1], options.width, options.features,
                                  data.info.classes()};
  if (data.info.shape[1] != data.info.shape[2] || data.info.shape[1] % 4 != 0)
    fail("{}: the classifier takes square images whose side divides by 4", options.loop.data);
  classifier.net = nn::ConvClassifier(config);
  classifier.net->to(context.device);
  classifier.net->train();

  FlatParameters parameters(*classifier.net);
  parallel.broadcast(parameters);
  Adam adam(parameters, {options.learning_rate});
  ShuffledBatches batches(data.x, options.loop.batch, generator);
  ResumeState state;
  track_network(state, "", parameters, adam, nullptr);
  track_data(state, batches, generator);
  // The model takes rows in file units; the batches are already in model units.
  const auto step = [&]() -> std::map<std::string, double> {
    const torch::Tensor x = parallel.local(batches.next());
    const torch::Tensor logits = classifier.net->forward(x);
    const torch::Tensor labels = parallel.local(data.y.index_select(0, batches.last_rows()));
    adam.zero_grad();
    const std::int64_t rows = options.loop.batch;
    const torch::Tensor loss = parallel.share(torch::nn::functional::cross_entropy(logits, labels), rows);
    loss.backward();
    const std::map<std::string, double> losses = parallel.reduce(
        parameters, {{"loss", loss}, {"accuracy", parallel.share(logits.argmax(1).eq(labels).to(torch::kDouble).mean(), rows)}});
    adam.step();
    return losses;
  };
  const auto write = [&](std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
    io::ModelFile file = trained_model("classifier", classifier.config(), *classifier.net, nullptr, curves, std::move(resume));
    file.config["trained_steps"] = at;
    file.config["batch"] = options.loop.batch;
    std::vector<nlohmann::json> inputs{data.input.record};
    if (test && file.resume.empty()) {
      // Accuracy is measured on rows in file units, as gm-eval will feed them.
      const double value = accuracy(classifier, test->info.from_model(test->x), test->y);
      file.config["test_accuracy"] = value;
      file.config["test_data"] = {{"path", options.test}, {"sha256", test->input.record["sha256"]}, {"rows", test->x.size(0)}};
      inputs.push_back(test->input.record);
      log::info("test accuracy {:.4f} on {} rows of {}", value, test->x.size(0), options.test);
    }
    io::write_model(options.loop.output, context, inputs, file);
  };
  run_loop(options.loop, "training classifier", step, write, state, parallel);
}

cli::Verb classifier_verb() {
  return cli::make_verb<ClassifierTrainOptions>(
      "classifier", "Conv classifier of labelled images: gm-eval's features and class judge for such data",
      train_classifier);
}

}  // namespace gm::train
