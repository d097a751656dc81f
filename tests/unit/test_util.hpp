// Helpers shared by the unit tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace gm::test {

// A fresh folder removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gm-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_random_bytes(const std::string& path, std::size_t size, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::ofstream out(path, std::ios::binary);
  for (std::size_t i = 0; i < size; ++i) out.put(static_cast<char>(rng() & 0xff));
}

// Runs a Python script with the interpreter whose h5py and torch the tests trust; fails the
// test when it fails.
inline void run_python(const std::string& script) {
  TempDir dir;
  const std::string path = dir.file("script.py");
  std::ofstream(path) << script;
  const int status = std::system((std::string(GM_PYTHON) + " " + path).c_str());
  ASSERT_EQ(status, 0) << "python failed:\n" << script;
}

}  // namespace gm::test
