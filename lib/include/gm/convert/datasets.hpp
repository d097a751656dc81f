// Datasets from other formats (IDX, image folders, .npy/.npz) into gm dataset files, long-tail
// subsampling, and samples out to images and arrays.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "gm/base/context.hpp"
#include "gm/io/gmfile.hpp"

namespace gm::convert {

// Rows and labels on their way into a dataset file, with the records of the files they came from.
struct Arrays {
  torch::Tensor x;  // uint8 images [N, C, H, W], or float32 rows
  torch::Tensor y;  // int64 [N], or undefined
  std::vector<std::string> class_names;
  std::vector<nlohmann::json> sources;
};

bool is_idx_name(const std::string& path);  // train-images-idx3-ubyte(.gz), *.idx(.gz)
bool is_array_name(const std::string& path);  // .npy or .npz

// IDX images [N, H, W] (or [N, C, H, W]) and optional IDX labels [N].
Arrays read_idx(const std::string& images, const std::string& labels);
// A folder with one subfolder per class (sorted names become labels 0, 1, ...), each holding
// images; all are decoded to the same channels (RGB if any is in colour) and, with size > 0,
// resized to size x size; without it, all must share one size.
Arrays read_image_folder(const std::string& folder, int size);
// A .npy of rows (with a .npy of labels), or a .npz holding `key` (default: x, or its only
// array) and y when present. uint8 stays uint8; other numbers become float32.
Arrays read_arrays(const std::string& path, const std::string& labels, const std::string& key);

// CIFAR-10-LT's profile: class c keeps floor(n_max * factor^(-c / (C - 1))) of its rows, n_max
// being the largest class's count; which rows, by seed. Returns the kept row indices, in order.
torch::Tensor long_tail_rows(const torch::Tensor& y, std::int64_t classes, double factor, std::uint64_t seed);

// Writes a gm dataset file: /x with its range, /y with class_names.
void write_dataset(const std::string& output, const Context& context, const Arrays& arrays,
                   const std::vector<std::string>& inputs);

// The first rows x cols images of a samples or dataset file as one grid PNG.
void write_grid(const io::Input& input, const std::string& output, const std::string& grid);
// Every image of a file as PNGs in a new folder, in class subfolders when labelled.
void write_png_folder(const io::Input& input, const std::string& folder);
// /x as .npy, or /x and /y (when present) as .npz.
void write_arrays(const io::Input& input, const std::string& output);

}  // namespace gm::convert
