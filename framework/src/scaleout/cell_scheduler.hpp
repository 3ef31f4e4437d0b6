// The work of a run as jobs, and the order they start in.
//
// A job is the training of a dense group or one pruned cell. A pruned cell can start once its
// group's dense weights exist. Among the jobs that can start, the one with the longest chain
// of work behind it goes first (highest level first list scheduling). A dense job counts its
// own estimate plus the longest of its pruned cells, so dense groups start early and long
// cells do not end up alone at the end of a run. The same scheduler feeds the threads of one
// process and, in the MPI mode, the ranks.
#pragma once

#include "grid/grid.hpp"
#include "run/cell_runner.hpp"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace recprune::scaleout {

/// One unit of work of a run.
struct Job {
    size_t cell = 0;        ///< index into Grid::cells
    size_t group = 0;       ///< index of the dense group, see plan_jobs()
    bool dense = false;
    bool write_row = true;  ///< false for a dense model trained again only for its weights
    double estimate = 0.0;  ///< relative cost, see estimate_cost()
};

/// The output of a finished job.
struct JobResult {
    /// The row as one line of JSON text, exactly as it goes into results.jsonl; empty when the
    /// job writes no row.
    std::string row_line;
    /// The dense weights and metrics (dense jobs only).
    std::shared_ptr<const run::DenseBaseline> baseline;
};

/// A job handed out, with the dense baseline a pruned job starts from.
struct Assignment {
    size_t job = 0;
    std::shared_ptr<const run::DenseBaseline> baseline;
};

/// Relative cost of a cell: passes over the training rows it makes (epochs of training and
/// fine-tuning, plus half a pass for scoring and evaluation), times the training rows.
/// Pruners that make extra passes to score and differences between models are not counted.
double estimate_cost(const grid::Cell& cell, uint64_t train_rows);

/// The jobs of a run.
struct JobPlan {
    std::vector<Job> jobs;
    size_t group_count = 0;
    /// Cells of this run (this shard) whose finished row is reused.
    std::vector<size_t> reused_cells;
    /// Cells of this run (this shard) that get a row: the reused ones and the ones in `jobs`.
    size_t owned_cells = 0;
};

/// Plans a run. `owned[i]` is true when cell i belongs to this run (its shard), `finished[i]`
/// when the output folder already contains a row that counts as finished for it. A dense
/// group trains when its own row is missing or when any of its pruned cells runs; only an
/// owned dense cell without a row writes a row.
JobPlan plan_jobs(const grid::Grid& grid, const std::vector<bool>& owned,
                  const std::vector<bool>& finished, const std::vector<double>& estimates);

/// Hands out jobs in priority order as their dense baselines become available. Thread-safe.
class CellScheduler {
public:
    explicit CellScheduler(JobPlan plan);

    /// Blocks until a job can start and returns it, or returns nothing when every job has
    /// been handed out or stop() was called.
    std::optional<Assignment> next();

    /// Returns a job that can start now, or nothing when none can (see finished()).
    std::optional<Assignment> try_next();

    /// Records that `job` finished; a dense job passes its baseline, which releases the
    /// pruned jobs of its group. A group's baseline is dropped once its last pruned job ends.
    void complete(size_t job, std::shared_ptr<const run::DenseBaseline> baseline);

    /// Hands out no further job (fail-fast); jobs already running finish.
    void stop();

    /// True when no job is running and none will start.
    bool finished() const;

    /// Jobs handed out and not yet completed.
    size_t running() const;

    const Job& job(size_t index) const { return plan_.jobs[index]; }
    const JobPlan& plan() const { return plan_; }

private:
    std::optional<Assignment> take_locked();
    bool all_handed_out_locked() const;

    JobPlan plan_;
    std::vector<double> priority_;
    // Jobs that can start, ordered by priority, then grid order.
    std::set<std::pair<double, size_t>> ready_;
    std::vector<std::vector<size_t>> waiting_;  // pruned jobs per group, until the baseline
    std::vector<std::shared_ptr<const run::DenseBaseline>> baselines_;
    std::vector<size_t> pruned_left_;  // pruned jobs per group not yet finished
    size_t handed_out_ = 0;
    size_t running_ = 0;
    bool stopped_ = false;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
};

}  // namespace recprune::scaleout
