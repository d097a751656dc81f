// Progress of long work on stderr: a live line on a terminal, a line every few seconds with
// -v otherwise, nothing with -q.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gm {

class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit = "rows");
  ~Progress();
  void update(std::int64_t done, const std::string& extra = "");
  void finish();

 private:
  void print(bool final_line, const std::string& extra);
  std::string label_, unit_;
  std::int64_t total_, done_ = 0;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace gm
