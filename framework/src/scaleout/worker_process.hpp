// Worker processes for --isolate: each slot of a run hands its cells to a child process, a
// second copy of the recprune executable started with a hidden command. A plugin that
// crashes the child (segfault, abort, exit) fails only the cell it was running. The slot
// records that cell as failed with the signal or exit code, then starts a new child for its
// next cell. The child loads the grid and the datasets (from the binary cache) once, then runs
// one cell per request and keeps the dense weights of the last group it saw.
#pragma once

#include "scaleout/executor.hpp"

#include <string>
#include <vector>

namespace recprune::scaleout {

/// The hidden command that turns `recprune` into a worker process.
inline constexpr const char* kCellWorkerCommand = "__cell-worker";

/// How to start a worker: the arguments after the command name, which must let the child
/// load the same grid, plugins and datasets as the parent (the CLI builds them).
struct WorkerLaunch {
    std::vector<std::string> arguments;
};

/// An executor that runs each job in its own child process (started on first use).
std::unique_ptr<CellExecutor> make_worker_process_executor(const JobContext& context,
                                                           const WorkerLaunch& launch);

/// Serves job requests on `socket` until the parent closes it (the body of a worker
/// process) and returns the process exit code. Checks that each requested cell id matches the
/// cell this process expanded, so a grid file edited during a run fails loudly.
int serve_cell_worker(int socket, const JobContext& context);

/// The failed row of a cell whose run ended without a row of its own (its worker process
/// crashed), with the identifying fields every row carries.
boost::json::object failed_cell_row(const grid::Cell& cell, const run::DatasetSlot& dataset,
                                    const std::string& reason);

}  // namespace recprune::scaleout
