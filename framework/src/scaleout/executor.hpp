// Where a job runs: in this process, or in a worker process (--isolate), on slots that a
// oneTBB arena drives. A slot takes a job, runs it to the end and hands the result back, so a
// process runs as many cells at once as it has slots.
#pragma once

#include "grid/grid.hpp"
#include "run/cell_runner.hpp"
#include "scaleout/cell_scheduler.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace recprune::scaleout {

/// What every job of a run reads: the grid with its final cell ids and the prepared datasets.
struct JobContext {
    const grid::Grid* grid = nullptr;
    const std::vector<run::DatasetSlot>* datasets = nullptr;
    /// oneDNN threads and the model folder of every cell.
    run::CellSettings cell;
};

/// Runs one job at a time.
class CellExecutor {
public:
    virtual ~CellExecutor() = default;
    /// Runs `job`; a pruned job gets its group's dense baseline. A failing cell gives a
    /// "failed" row, not an exception; exceptions mean the run itself cannot go on.
    virtual JobResult run(const Job& job, std::shared_ptr<const run::DenseBaseline> baseline) = 0;
};

using ExecutorFactory = std::function<std::unique_ptr<CellExecutor>()>;

/// Runs jobs on the calling thread.
std::unique_ptr<CellExecutor> make_in_process_executor(const JobContext& context);

/// Runs `job` in this process; the body of the in-process executor and of worker processes.
JobResult run_job(const JobContext& context, const Job& job,
                  const std::shared_ptr<const run::DenseBaseline>& baseline);

/// A job handed to a slot; `token` identifies it to the queue that handed it out.
struct WorkItem {
    size_t token = 0;
    Job job;
    std::shared_ptr<const run::DenseBaseline> baseline;
};

/// Where slots take jobs from and return results to. Thread-safe.
class WorkQueue {
public:
    virtual ~WorkQueue() = default;
    /// Blocks until a job is available; nothing means the slot is done.
    virtual std::optional<WorkItem> next() = 0;
    virtual void done(const WorkItem& item, JobResult result) = 0;
    /// A slot failed with an exception; the queue should let the other slots end.
    virtual void abort() = 0;
};

/// A WorkQueue over a CellScheduler; `record` stores each result before the scheduler hears
/// of it.
class SchedulerQueue : public WorkQueue {
public:
    SchedulerQueue(CellScheduler& scheduler,
                   std::function<void(const Job&, const JobResult&)> record)
        : scheduler_(scheduler), record_(std::move(record)) {}

    std::optional<WorkItem> next() override;
    void done(const WorkItem& item, JobResult result) override;
    void abort() override { scheduler_.stop(); }

private:
    CellScheduler& scheduler_;
    std::function<void(const Job&, const JobResult&)> record_;
};

/// Runs `slots` slots under a tbb::task_arena of that size until the queue runs dry. Each
/// slot makes its executor with `factory` on first use. Rethrows the first exception of a
/// slot after the others have ended.
void run_slots(int slots, const ExecutorFactory& factory, WorkQueue& queue);

}  // namespace recprune::scaleout
