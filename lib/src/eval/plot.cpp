// The comparison chart: three panels (fidelity, coverage, speed), one bar per samples file,
// drawn by gnuplot, the plotting program researchers already have.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "gm/base/error.hpp"
#include "gm/base/quote.hpp"
#include "gm/eval/eval.hpp"
#include "gm/io/output.hpp"

namespace gm::eval {
namespace {

std::string value(const nlohmann::json& row, const char* key) {
  return row.contains(key) && row[key].is_number() ? fmt::format("{}", row[key].get<double>()) : "NaN";
}

}  // namespace

void plot_comparison(const std::vector<nlohmann::json>& rows, const std::string& path) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0)
    fail("--plot {}: gnuplot is not installed (Debian: apt-get install gnuplot-nox)", path);
  const bool toy = !rows.empty() && rows.front().contains("modes");
  io::AtomicPath target(path);
  const std::string data_file = target.temp() + ".tsv", script_file = target.temp() + ".gp";
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      std::filesystem::remove(a);
      std::filesystem::remove(b);
    }
  } cleanup{data_file, script_file};
  {
    std::ofstream data(data_file);
    for (const auto& row : rows) {
      const std::string name = std::filesystem::path(row["samples"].get<std::string>()).filename().string();
      data << name << '\t' << value(row, toy ? "hq" : "precision") << '\t' << value(row, toy ? "modes" : "recall")
           << '\t' << value(row, "nfe") << '\n';
    }
  }
  std::ofstream(script_file) << fmt::format(
      "set terminal pngcairo noenhanced size 1200,440 font 'sans,10'\n"
      "set output {}\n"
      "set datafile separator '\\t'\n"
      "set style data histograms\n"
      "set style fill solid 0.8 border -1\n"
      "set boxwidth 0.7\n"
      "set xtics rotate by -30 nomirror\n"
      "set grid ytics\n"
      "set multiplot layout 1,3 title 'fidelity, coverage and speed of each sampler'\n"
      "set title 'fidelity: {}'\n"
      "set yrange [0:1]\n"
      "plot {} using 2:xtic(1) notitle lc rgb '#4477aa'\n"
      "set title 'coverage: {}'\n"
      "set yrange [0:*]\n"
      "plot {} using 3:xtic(1) notitle lc rgb '#228833'\n"
      "set title 'speed: network evaluations per sample'\n"
      "set logscale y\n"
      "set yrange [0.5:*]\n"
      "plot {} using 4:xtic(1) notitle lc rgb '#cc6677'\n"
      "unset multiplot\n",
      single_quote(target.temp(), "''"), toy ? "high-quality fraction" : "precision", single_quote(data_file, "''"),
      toy ? "modes covered" : "recall", single_quote(data_file, "''"), single_quote(data_file, "''"));
  if (std::system(("gnuplot " + single_quote(script_file) + " 2>/dev/null").c_str()) != 0)
    fail("--plot {}: gnuplot failed to draw the chart", path);
  target.commit();
}

}  // namespace gm::eval
