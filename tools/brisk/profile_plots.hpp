// PNG plots of a profile, drawn by gnuplot (Debian gnuplot-nox): the latency
// CDF (queue wait and run time) and throughput with queue depth over time.
// Data files and the gnuplot script stay next to the PNGs, so a plot can be
// restyled and redrawn by hand.
#pragma once

#include <string>
#include <vector>

#include "brisk/profile_model.hpp"

namespace brisk::tools {

// Writes the plots into dir (created if needed). Returns the PNGs written;
// on failure (no gnuplot, say) returns none and sets note to the reason.
std::vector<std::string> draw_plots(const Profile& profile, const std::string& dir, std::string& note);

}  // namespace brisk::tools
