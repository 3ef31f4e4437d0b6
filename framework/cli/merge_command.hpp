// Scale-out in the recprune command: the --shard, --mpi and --isolate options of `run`, the
// `merge` command that joins shard folders, and the hidden command of worker processes.
#pragma once

#include "run/grid_runner.hpp"

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace recprune::cli {

/// The scale-out options of `recprune run` as given.
struct ScaleoutFlags {
    std::string shard;
    bool mpi = false;
    bool isolate = false;
};

/// Adds --shard, --mpi and --isolate to the options of `recprune run`.
void add_scaleout_options(boost::program_options::options_description& options,
                          ScaleoutFlags& flags);

/// The parts of a `recprune run` command line a worker process needs to load the same grid.
struct RunInvocation {
    std::string grid_path;
    std::vector<std::string> plugin_dirs;
    bool allow_insecure_plugins = false;
    bool verbose = false;
    bool threads_given = false;
};

/// Sets the scale-out fields of `options` from the flags. Call after the output, cache and
/// thread options are set. Throws ConfigError for an invalid --shard.
void apply_scaleout_options(const ScaleoutFlags& flags, const RunInvocation& invocation,
                            run::RunOptions& options);

/// Runs `recprune merge OUT SHARD_DIR...`. Returns 0 when every cell of the grid is there
/// without conflict or failure, 1 otherwise; ConfigError propagates to main (exit code 2).
int command_merge(const std::vector<std::string>& args);

/// Runs the hidden worker-process command (scaleout::kCellWorkerCommand).
int command_cell_worker(const std::vector<std::string>& args);

}  // namespace recprune::cli
