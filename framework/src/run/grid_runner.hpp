// Runs a whole grid: loads each dataset once, trains each dense group once, runs the pruned
// cells in parallel under oneTBB, appends one row per finished cell, and writes the table.
#pragma once

#include "grid/grid.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace recprune::run {

struct RunOptions {
    std::filesystem::path output;
    /// Cells run at once (oneTBB arena size).
    int threads = 1;
    /// oneDNN (OpenMP) threads inside each cell. Fixed per run, and recorded, because results
    /// of some oneDNN kernels depend on the thread count.
    int cell_threads = 1;
    bool retry_failed = false;
    bool fail_fast = false;
    /// Binary cache of parsed datasets; empty disables it.
    std::filesystem::path cache_dir;
    /// Progress line on the terminal.
    bool progress = false;
};

struct RunSummary {
    size_t cells = 0;
    size_t ran = 0;
    size_t reused = 0;
    size_t failed = 0;
    std::vector<boost::json::object> rows;  ///< every cell's row, in grid order
    std::filesystem::path table_path;
};

/// Runs the grid. Throws DataError when a dataset cannot be loaded (before any cell runs) and
/// ConfigError for output problems. Cell failures are rows, not exceptions.
RunSummary run_grid(grid::Grid& grid, const plugin::PluginRegistry& registry,
                    const RunOptions& options);

}  // namespace recprune::run
