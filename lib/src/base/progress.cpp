#include "gm/base/progress.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "gm/base/log.hpp"

namespace gm {

Progress::Progress(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(isatty(STDERR_FILENO) && log::verbosity() >= 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() {
  if (tty_ && !finished_) {
    const char newline = '\n';
    ssize_t ignored = ::write(STDERR_FILENO, &newline, 1);
    (void)ignored;
  }
}

void Progress::update(std::int64_t done, const std::string& extra) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if ((tty_ && since >= 0.2) || (!tty_ && log::verbosity() >= 1 && since >= 5.0)) {
    last_ = now;
    print(false, extra);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_ || log::verbosity() >= 1) print(true, "");
}

void Progress::print(bool final_line, const std::string& extra) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  const double percent = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  std::string line = fmt::format("{} {:5.1f}% {}/{} {} {:.0f} {}/s {:.1f}s{}{}", label_, percent, done_, total_,
                                 unit_, rate, unit_, seconds, extra.empty() ? "" : " ", extra);
  if (tty_) {
    line = "\r" + log::program() + ": " + line + "\033[K" + (final_line ? "\n" : "");
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
  } else {
    log::write(1, line);
  }
}

}  // namespace gm
