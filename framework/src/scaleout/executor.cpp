#include "scaleout/executor.hpp"

#include "core/json_io.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>

namespace recprune::scaleout {
namespace {

class InProcessExecutor : public CellExecutor {
public:
    explicit InProcessExecutor(const JobContext& context) : context_(context) {}

    JobResult run(const Job& job, std::shared_ptr<const run::DenseBaseline> baseline) override {
        return run_job(context_, job, baseline);
    }

private:
    JobContext context_;
};

}  // namespace

std::unique_ptr<CellExecutor> make_in_process_executor(const JobContext& context) {
    return std::make_unique<InProcessExecutor>(context);
}

JobResult run_job(const JobContext& context, const Job& job,
                  const std::shared_ptr<const run::DenseBaseline>& baseline) {
    const grid::Cell& cell = context.grid->cells.at(job.cell);
    const run::DatasetSlot& dataset = context.datasets->at(cell.dataset);
    JobResult result;
    if (job.dense) {
        run::CellOutput output = run::run_dense_cell(cell, dataset, context.cell);
        result.baseline = output.baseline;
        if (job.write_row) result.row_line = json_io::serialize(output.row);
        return result;
    }
    run::DenseBaseline missing;
    missing.message = "no dense baseline reached the cell";
    run::CellOutput output = run::run_pruned_cell(cell, dataset, baseline ? *baseline : missing,
                                                  context.cell);
    result.row_line = json_io::serialize(output.row);
    return result;
}

std::optional<WorkItem> SchedulerQueue::next() {
    auto assignment = scheduler_.next();
    if (!assignment) return std::nullopt;
    return WorkItem{assignment->job, scheduler_.job(assignment->job),
                    std::move(assignment->baseline)};
}

void SchedulerQueue::done(const WorkItem& item, JobResult result) {
    record_(item.job, result);
    scheduler_.complete(item.token, std::move(result.baseline));
}

void run_slots(int slots, const ExecutorFactory& factory, WorkQueue& queue) {
    slots = std::max(1, slots);
    // oneTBB caps its workers at the hardware threads by default. A run with more slots (for
    // example cells that wait on worker processes) raises the cap for its duration.
    std::optional<tbb::global_control> limit;
    if (slots > tbb::this_task_arena::max_concurrency()) {
        limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(slots));
    }
    tbb::task_arena arena(slots);
    arena.execute([&] {
        tbb::task_group group;
        for (int slot = 0; slot < slots; ++slot) {
            group.run([&] {
                try {
                    std::unique_ptr<CellExecutor> executor;
                    while (auto item = queue.next()) {
                        if (!executor) executor = factory();
                        JobResult result = executor->run(item->job, item->baseline);
                        queue.done(*item, std::move(result));
                    }
                } catch (...) {
                    queue.abort();
                    throw;
                }
            });
        }
        group.wait();
    });
}

}  // namespace recprune::scaleout
