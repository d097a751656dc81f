// HDF5 read throughput: gm reading a dataset file's /x whole (h5::Dataset::read) and in the
// chunks its streaming tools use (io::for_each_row_chunk), against h5py reading the same
// dataset and against reading the file's bytes with read(2), all in this run and from the page
// cache (the file is read once first). Prints GB/s of /x and each as a ratio to h5py.
//
// Usage: gm-bench-io FILE.h5 [REPEATS=5]      (a file from gm-sample or gm-convert)
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "gm/io/gmfile.hpp"
#include "gm/io/h5.hpp"

#include "timing.hpp"

using gm::bench::best_seconds;

namespace {

double read_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  std::vector<char> buffer(8 << 20);
  double total = 0;
  for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;) total += static_cast<double>(n);
  ::close(fd);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gm-bench-io FILE.h5 [REPEATS]\n");
    return 2;
  }
  const std::string path = argv[1];
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  const double file_bytes = read_bytes(path);  // also warms the page cache
  double x_bytes = 0;
  const double whole = best_seconds(repeats, [&] {
    const gm::h5::File file = gm::h5::File::open(path);
    x_bytes = static_cast<double>(file.root().dataset("x").read().nbytes());
  });
  const double chunked = best_seconds(repeats, [&] {
    const gm::h5::File file = gm::h5::File::open(path);
    double sum = 0;
    gm::io::for_each_row_chunk(file.root().dataset("x"), [&](const torch::Tensor& rows) { sum += rows.nbytes(); });
    if (sum != x_bytes) throw std::runtime_error("chunked read lost rows");
  });
  const double raw = best_seconds(repeats, [&] { read_bytes(path); });
  const std::string script = fmt::format(
      "import h5py, time\nbest = 1e300\nfor _ in range({}):\n    s = time.perf_counter()\n"
      "    with h5py.File('{}', 'r') as f: f['x'][:]\n    best = min(best, time.perf_counter() - s)\nprint(best)\n",
      repeats, path);
  const std::string command = fmt::format("{} -c \"{}\"", GM_PYTHON, script);
  FILE* pipe = ::popen(command.c_str(), "r");
  double h5py_seconds = 0;
  if (!pipe || std::fscanf(pipe, "%lf", &h5py_seconds) != 1) {
    std::fprintf(stderr, "the h5py reference failed\n");
    return 1;
  }
  ::pclose(pipe);
  std::printf("%s: /x %.0f MB of a %.0f MB file, best of %d, from the page cache\n\n", path.c_str(), x_bytes / 1e6,
              file_bytes / 1e6, repeats);
  std::printf("| reader | s | GB/s of /x | vs h5py |\n|---|---|---|---|\n");
  const auto row = [&](const char* name, double seconds, double bytes) {
    std::printf("| %s | %.3f | %.2f | %.2fx |\n", name, seconds, bytes / seconds / 1e9, h5py_seconds / seconds);
  };
  row("gm, whole /x (h5::Dataset::read)", whole, x_bytes);
  row("gm, 8 MB chunks (io::for_each_row_chunk)", chunked, x_bytes);
  row("h5py, f['x'][:]", h5py_seconds, x_bytes);
  std::printf("| read(2) of the whole file, 8 MB buffer | %.3f | %.2f (of the file) | |\n", raw, file_bytes / raw / 1e9);
  return 0;
}
