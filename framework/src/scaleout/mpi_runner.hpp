// The MPI mode: `mpirun -np N recprune run GRID --mpi`. Every rank loads the grid and the
// datasets. Rank 0 owns the output folder and hands jobs to the slots of every rank (its own
// included) as they free up, in the scheduler's longest-first order. A rank that finishes a
// dense group sends the weights back with the row, and rank 0 sends them on with the first
// pruned cell of that group a rank gets, so no rank trains a dense model twice. Only the main
// thread of a rank calls MPI (MPI_THREAD_FUNNELED).
//
// The build has this mode when CMake finds MPI (RECPRUNE_WITH_MPI, on by default); without
// it, --mpi is rejected with a message saying how to get it.
#pragma once

#include "scaleout/executor.hpp"

#include <functional>
#include <memory>

namespace recprune::scaleout {

/// True when this build has the MPI mode.
bool mpi_built();

/// MPI for the length of a run: initialised on start(), finalised on destruction.
class MpiSession {
public:
    /// Initialises MPI. Throws ConfigError when this build has no MPI or MPI was initialised
    /// before.
    static std::unique_ptr<MpiSession> start();
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    /// Ranks on this node (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE), 1 when unknown.
    int local_size() const { return local_size_; }

    /// Ends every rank of the job with `exit_code` (MPI_Abort), after this rank failed in a
    /// way the others cannot learn of.
    [[noreturn]] void abort(int exit_code);

private:
    MpiSession() = default;

    int rank_ = 0;
    int size_ = 1;
    int local_size_ = 1;
};

/// Runs rank 0: `local_slots` slots here, and jobs handed to the other ranks' slots until the
/// scheduler has none left. `record` stores each result and runs on this rank only.
void coordinate_mpi(MpiSession& session, CellScheduler& scheduler,
                    const std::function<void(const Job&, const JobResult&)>& record,
                    int local_slots, const ExecutorFactory& factory);

/// Runs a rank other than 0: offers `slots` slots to rank 0 and runs the jobs it sends until
/// it sends the stop message.
void serve_mpi_rank(MpiSession& session, int slots, const ExecutorFactory& factory);

}  // namespace recprune::scaleout
