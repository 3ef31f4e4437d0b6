#include "scaleout/cell_scheduler.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace recprune::scaleout {

double estimate_cost(const grid::Cell& cell, uint64_t train_rows) {
    // Scoring, evaluation on the validation and test parts and set-up: about half a pass.
    constexpr double kOverheadPasses = 0.5;
    const auto& training = cell.training;
    const auto& schedule = cell.schedule;
    double passes = kOverheadPasses;
    if (cell.dense) {
        passes += training.epochs;
    } else {
        const int steps = std::max(1, schedule.steps);
        const int finetune = std::max(0, schedule.finetune_epochs);
        if (schedule.name == "iterative") {
            passes += steps * finetune;
        } else if (schedule.name == "lottery") {
            passes += schedule.rewind_epoch + steps * finetune;
        } else if (schedule.name == "retrain") {
            passes += schedule.rewind_epoch + steps * training.epochs;
        } else {
            // one_shot and gradual fine-tune once (gradual prunes during that training).
            passes += finetune;
        }
    }
    return passes * static_cast<double>(std::max<uint64_t>(1, train_rows));
}

JobPlan plan_jobs(const grid::Grid& grid, const std::vector<bool>& owned,
                  const std::vector<bool>& finished, const std::vector<double>& estimates) {
    const size_t count = grid.cells.size();
    JobPlan plan;

    // Groups in grid order, each with its dense cell.
    std::map<std::string, size_t> group_index;
    std::vector<size_t> group_of(count);
    std::vector<size_t> dense_cell;
    for (size_t i = 0; i < count; ++i) {
        const auto& cell = grid.cells[i];
        auto [entry, added] = group_index.emplace(cell.group_id, group_index.size());
        if (added) dense_cell.push_back(count);
        group_of[i] = entry->second;
        if (cell.dense) dense_cell[entry->second] = i;
    }
    plan.group_count = group_index.size();

    std::vector<bool> group_needed(plan.group_count, false);
    std::vector<Job> pruned_jobs;
    for (size_t i = 0; i < count; ++i) {
        if (!owned[i]) continue;
        ++plan.owned_cells;
        if (finished[i]) {
            plan.reused_cells.push_back(i);
            continue;
        }
        if (grid.cells[i].dense) continue;
        group_needed[group_of[i]] = true;
        pruned_jobs.push_back(Job{i, group_of[i], false, true, estimates[i]});
    }

    for (size_t group = 0; group < plan.group_count; ++group) {
        const size_t cell = dense_cell[group];
        if (cell == count) {
            if (group_needed[group]) {
                throw std::logic_error("grid has pruned cells without a dense cell in group " +
                                       std::to_string(group));
            }
            continue;
        }
        const bool writes_row = owned[cell] && !finished[cell];
        if (writes_row || group_needed[group]) {
            plan.jobs.push_back(Job{cell, group, true, writes_row, estimates[cell]});
        }
    }
    plan.jobs.insert(plan.jobs.end(), pruned_jobs.begin(), pruned_jobs.end());
    return plan;
}

CellScheduler::CellScheduler(JobPlan plan)
    : plan_(std::move(plan)),
      priority_(plan_.jobs.size(), 0.0),
      waiting_(plan_.group_count),
      baselines_(plan_.group_count),
      pruned_left_(plan_.group_count, 0) {
    std::vector<double> longest_pruned(plan_.group_count, 0.0);
    for (const auto& job : plan_.jobs) {
        if (job.dense) continue;
        longest_pruned[job.group] = std::max(longest_pruned[job.group], job.estimate);
        ++pruned_left_[job.group];
    }
    for (size_t i = 0; i < plan_.jobs.size(); ++i) {
        const auto& job = plan_.jobs[i];
        if (job.dense) {
            priority_[i] = job.estimate + longest_pruned[job.group];
            ready_.emplace(-priority_[i], i);
        } else {
            priority_[i] = job.estimate;
            waiting_[job.group].push_back(i);
        }
    }
}

std::optional<Assignment> CellScheduler::take_locked() {
    if (stopped_ || ready_.empty()) return std::nullopt;
    const size_t index = ready_.begin()->second;
    ready_.erase(ready_.begin());
    ++handed_out_;
    ++running_;
    const Job& job = plan_.jobs[index];
    Assignment assignment{index, nullptr};
    if (!job.dense) assignment.baseline = baselines_[job.group];
    return assignment;
}

bool CellScheduler::all_handed_out_locked() const {
    return handed_out_ == plan_.jobs.size();
}

std::optional<Assignment> CellScheduler::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        if (auto assignment = take_locked()) return assignment;
        if (stopped_ || all_handed_out_locked()) return std::nullopt;
        if (running_ == 0) {
            // Jobs wait for a dense baseline, but no job runs that could produce it.
            throw std::logic_error("cell scheduler: jobs wait for a dense group that never runs");
        }
        changed_.wait(lock);
    }
}

std::optional<Assignment> CellScheduler::try_next() {
    std::lock_guard<std::mutex> lock(mutex_);
    return take_locked();
}

void CellScheduler::complete(size_t index, std::shared_ptr<const run::DenseBaseline> baseline) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const Job& job = plan_.jobs[index];
        --running_;
        if (job.dense) {
            baselines_[job.group] = std::move(baseline);
            for (size_t waiting : waiting_[job.group]) ready_.emplace(-priority_[waiting], waiting);
            waiting_[job.group].clear();
            if (pruned_left_[job.group] == 0) baselines_[job.group].reset();
        } else if (--pruned_left_[job.group] == 0) {
            baselines_[job.group].reset();
        }
    }
    changed_.notify_all();
}

void CellScheduler::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
    }
    changed_.notify_all();
}

bool CellScheduler::finished() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_ == 0 && (stopped_ || all_handed_out_locked());
}

size_t CellScheduler::running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_;
}

}  // namespace recprune::scaleout
