// Runs a whole grid. Each dataset is loaded once and each cell gets its final id, which
// includes the dataset fingerprint. Cells that a previous run in the output folder finished
// are skipped. Each dense group trains once, and the pruned cells run on oneTBB slots: in this
// process, in worker processes (--isolate) or over MPI ranks (--mpi), for the whole grid or
// one shard of it. One row per finished cell goes to results.jsonl at once, and the table is
// written at the end.
#pragma once

#include "grid/grid.hpp"
#include "plugin/plugin_registry.hpp"
#include "run/cell_runner.hpp"
#include "scaleout/shard.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace recprune::run {

struct RunOptions {
    std::filesystem::path output;
    /// Cells run at once (oneTBB arena size); per rank in the MPI mode.
    int threads = 1;
    /// True when --threads was given; otherwise the MPI mode shares the cores of a node
    /// between its ranks.
    bool threads_explicit = false;
    /// oneDNN (OpenMP) threads inside each cell. Fixed per run, and recorded, because results
    /// of some oneDNN kernels depend on the thread count.
    int cell_threads = 1;
    /// Keep each cell's model files in <output>/models/<cell_id>/ (run --save-models).
    bool save_models = false;
    bool retry_failed = false;
    bool fail_fast = false;
    /// Binary cache of parsed datasets; empty disables it.
    std::filesystem::path cache_dir;
    /// Progress line on the terminal.
    bool progress = false;
    /// The slice of the grid this run owns (--shard K/N).
    scaleout::Shard shard;
    /// Run under mpirun: rank 0 writes the results, every rank runs cells.
    bool mpi = false;
    /// Run each cell in a worker process, so a plugin that crashes the process fails only its
    /// cell (tested with a pruner that segfaults and one that aborts).
    bool isolate = false;
    /// Arguments that let a worker process load the same grid, plugins and datasets; the
    /// CLI fills them in (see scaleout::WorkerLaunch).
    std::vector<std::string> worker_arguments;
    /// Refuse the run before its first cell when the memory or disk estimate
    /// (run/resource_check.hpp) exceeds what the machine has.
    bool check_resources = true;
    /// While cells run in this process (neither --isolate nor MPI), print a line when a plugin
    /// ends the process with exit() or a fatal signal (run/early_exit.hpp). The CLI turns it
    /// on. It installs process-wide handlers, so a program that embeds the runner may not.
    bool early_exit_notice = false;
};

struct RunSummary {
    size_t cells = 0;  ///< cells of the grid (all shards)
    size_t ran = 0;
    size_t reused = 0;
    size_t failed = 0;
    std::vector<boost::json::object> rows;  ///< the rows of this run's cells, in grid order
    std::filesystem::path table_path;
    /// False on MPI ranks other than 0, which write and print nothing.
    bool primary = true;
    /// True when SIGINT or SIGTERM stopped the start of new cells (run/interrupt.hpp).
    bool interrupted = false;
};

/// Loads every dataset of the grid (through the binary cache in `cache_dir` when not empty)
/// and gives each cell its final id and group id, which include the dataset fingerprint so
/// changed data never reuses a row. Throws DataError naming the dataset entry.
std::vector<DatasetSlot> prepare_datasets(grid::Grid& grid,
                                          const std::filesystem::path& cache_dir);

/// Runs the grid. Throws DataError when a dataset cannot be loaded (before any cell runs) and
/// ConfigError for output problems or a grid that does not fit the machine's memory or disk.
/// Cell failures are rows, not exceptions.
RunSummary run_grid(grid::Grid& grid, const plugin::PluginRegistry& registry,
                    const RunOptions& options);

}  // namespace recprune::run
