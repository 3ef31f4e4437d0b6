#include "run/grid_runner.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "data/cache.hpp"
#include "plugin/instances.hpp"
#include "results/result_store.hpp"
#include "run/cell_runner.hpp"
#include "run/environment.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

#include <unistd.h>

namespace recprune::run {
namespace {

using Clock = std::chrono::steady_clock;

// Loads, fingerprints, caches and prepares one dataset. Any failure is a DataError that names
// the dataset entry, raised before a cell runs.
DatasetSlot load_dataset(const grid::DatasetEntry& entry, const std::filesystem::path& cache_dir) {
    DatasetSlot slot;
    slot.entry = &entry;
    std::vector<std::string> problems;
    data::DataSettings settings = data::parse_data_settings(entry.settings, "$", problems);
    boost::json::object params = data::plugin_params_with_settings(entry.plugin.params, settings);
    std::string params_json = json_io::serialize(params);

    plugin::DatasetInstance instance(entry.plugin.library, params_json);
    std::vector<std::string> sources = instance.sources();
    std::string fingerprint =
        data::fingerprint(entry.plugin.name, entry.plugin.library->version(), params_json,
                          sources, json_io::serialize(entry.settings));
    auto start = Clock::now();
    data::RawTable raw = data::load_cached(cache_dir, fingerprint, [&] {
        return data::copy_table(instance.load());
    });
    double load_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    slot.data = data::prepare(raw, settings);
    slot.data.fingerprint = fingerprint;
    RECPRUNE_INFO("grid", "dataset {}: {} rows ({} train, {} validation, {} test), {} fields, "
                          "fingerprint {}, loaded in {:.2f} s",
                  entry.plugin.name, raw.row_count, slot.data.train.row_count,
                  slot.data.validation.row_count, slot.data.test.row_count,
                  slot.data.fields.size(), fingerprint.substr(0, 16), load_seconds);
    return slot;
}

bool finished(const boost::json::object& row, bool retry_failed) {
    const auto* status = row.if_contains("status");
    if (status == nullptr || !status->is_string()) return false;
    return status->as_string() != "failed" || !retry_failed;
}

// Prints "cells 12/40 done, 2 running, 1 failed, 00:31 elapsed, ETA 01:10" on a terminal.
class Progress {
public:
    Progress(size_t total, bool enabled) : total_(total), enabled_(enabled), start_(Clock::now()) {}

    void started() { ++running_; show(); }
    void finished(bool failed) {
        --running_;
        ++done_;
        if (failed) ++failed_;
        show();
    }
    void close() {
        if (enabled_ && shown_) std::fputs("\n", stderr);
    }

private:
    static std::string clock_text(double seconds) {
        char buffer[32];
        int s = static_cast<int>(seconds + 0.5);
        std::snprintf(buffer, sizeof(buffer), "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
        return buffer;
    }
    void show() {
        if (!enabled_) return;
        std::lock_guard<std::mutex> lock(mutex_);
        double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        std::string eta = done_ == 0 ? "--:--:--"
                                     : clock_text(elapsed / static_cast<double>(done_) *
                                                  static_cast<double>(total_ - done_));
        std::fprintf(stderr, "\rcells %zu/%zu done, %d running, %zu failed, %s elapsed, ETA %s  ",
                     done_.load(), total_, running_.load(), failed_.load(),
                     clock_text(elapsed).c_str(), eta.c_str());
        std::fflush(stderr);
        shown_ = true;
    }

    size_t total_;
    bool enabled_;
    Clock::time_point start_;
    std::atomic<size_t> done_{0};
    std::atomic<int> running_{0};
    std::atomic<size_t> failed_{0};
    std::mutex mutex_;
    bool shown_ = false;
};

}  // namespace

RunSummary run_grid(grid::Grid& grid, const plugin::PluginRegistry& registry,
                    const RunOptions& options) {
    RunSummary summary;
    summary.cells = grid.cells.size();

    // 1. Datasets, once each, before any cell: a bad file stops the run here.
    std::vector<DatasetSlot> datasets;
    datasets.reserve(grid.datasets.size());
    for (const auto& entry : grid.datasets) datasets.push_back(load_dataset(entry, options.cache_dir));

    // 2. Final cell ids include the dataset fingerprint, so changed data never reuses a row.
    for (auto& cell : grid.cells) {
        const std::string& fingerprint = datasets[cell.dataset].data.fingerprint;
        cell.group_id = stable_id(boost::json::object{{"group", cell.group_id},
                                                      {"fingerprint", fingerprint}});
        cell.id = cell.dense ? cell.group_id
                             : stable_id(boost::json::object{{"cell", cell.id},
                                                             {"fingerprint", fingerprint}});
    }

    // 3. What a previous run in this folder already finished.
    results::ResultStore store(options.output);
    boost::json::object environment =
        describe_environment(registry, options.threads, options.cell_threads);
    log_run_header(environment);
    std::map<std::string, boost::json::object> rows;
    for (const auto& cell : grid.cells) {
        auto previous = store.previous().find(cell.id);
        if (previous != store.previous().end() && finished(previous->second, options.retry_failed)) {
            rows[cell.id] = previous->second;
        }
    }

    // A dense group trains when its own row or any of its pruned cells is missing.
    std::vector<const grid::Cell*> dense_cells;
    std::vector<const grid::Cell*> pruned_cells;
    std::map<std::string, bool> group_needed;
    for (const auto& cell : grid.cells) {
        if (cell.dense) dense_cells.push_back(&cell);
        if (!cell.dense && rows.count(cell.id) == 0) {
            pruned_cells.push_back(&cell);
            group_needed[cell.group_id] = true;
        }
    }
    std::vector<const grid::Cell*> dense_to_run;
    for (const auto* cell : dense_cells) {
        if (rows.count(cell->id) == 0 || group_needed.count(cell->group_id) != 0) {
            dense_to_run.push_back(cell);
        }
    }
    summary.reused = rows.size();
    size_t to_run = pruned_cells.size();
    for (const auto* cell : dense_to_run) to_run += rows.count(cell->id) == 0 ? 1 : 0;
    RECPRUNE_INFO("sched", "{} cells: {} to run, {} finished before", grid.cells.size(), to_run,
                  summary.reused);

    Progress progress(to_run, options.progress);
    std::mutex rows_mutex;
    std::atomic<bool> stop{false};
    auto record = [&](const grid::Cell& cell, boost::json::object row) {
        bool failed = row.at("status") == "failed";
        store.append(row);
        {
            std::lock_guard<std::mutex> lock(rows_mutex);
            rows[cell.id] = std::move(row);
            ++summary.ran;
            if (failed) ++summary.failed;
        }
        progress.finished(failed);
        if (failed && options.fail_fast) stop = true;
    };

    tbb::task_arena arena(std::max(1, options.threads));

    // 4. Dense groups in parallel; their weights stay in memory for the pruned cells.
    // Known limit: every dense model of the grid is held in memory until the pruned cells end;
    // lift by writing dense checkpoints to the output folder when grids outgrow memory.
    std::map<std::string, std::shared_ptr<DenseBaseline>> baselines;
    std::mutex baselines_mutex;
    std::vector<bool> dense_has_row;
    for (const auto* cell : dense_to_run) dense_has_row.push_back(rows.count(cell->id) != 0);
    arena.execute([&] {
        tbb::parallel_for(size_t{0}, dense_to_run.size(), [&](size_t i) {
            if (stop) return;
            const grid::Cell& cell = *dense_to_run[i];
            bool has_row = dense_has_row[i];
            if (!has_row) progress.started();
            CellOutput output = run_dense_cell(cell, datasets[cell.dataset], options.cell_threads);
            {
                std::lock_guard<std::mutex> lock(baselines_mutex);
                baselines[cell.group_id] = output.baseline;
            }
            // A rerun only to get the weights back does not write a second row.
            if (!has_row) record(cell, std::move(output.row));
        });
    });

    // 5. Pruned cells in parallel.
    arena.execute([&] {
        tbb::parallel_for(size_t{0}, pruned_cells.size(), [&](size_t i) {
            if (stop) return;
            const grid::Cell& cell = *pruned_cells[i];
            progress.started();
            CellOutput output = run_pruned_cell(cell, datasets[cell.dataset],
                                                *baselines.at(cell.group_id),
                                                options.cell_threads);
            RECPRUNE_INFO("sched", "finished {} ({})", describe_cell(cell, datasets[cell.dataset]),
                          json_io::serialize(output.row.at("status")));
            record(cell, std::move(output.row));
        });
    });
    progress.close();

    // 6. The final table, in grid order.
    for (const auto& cell : grid.cells) {
        auto found = rows.find(cell.id);
        if (found != rows.end()) summary.rows.push_back(found->second);
    }
    store.write_table(grid.document, environment, summary.rows);
    summary.table_path = store.table_path();
    RECPRUNE_INFO("results", "wrote {} rows to {}", summary.rows.size(),
                  summary.table_path.string());
    return summary;
}

}  // namespace recprune::run
