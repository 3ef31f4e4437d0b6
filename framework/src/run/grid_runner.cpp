#include "run/grid_runner.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/join.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "data/cache.hpp"
#include "plugin/instances.hpp"
#include "results/result_store.hpp"
#include "run/early_exit.hpp"
#include "run/environment.hpp"
#include "run/interrupt.hpp"
#include "run/resource_check.hpp"
#include "scaleout/cell_scheduler.hpp"
#include "scaleout/executor.hpp"
#include "scaleout/mpi_runner.hpp"
#include "scaleout/worker_process.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <sched.h>
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
    if (raw.row_count == 0) {
        const std::string files = join(sources);
        throw DataError("empty dataset: " + entry.plugin.name + " (" +
                        (files.empty() ? std::string("no files") : files) +
                        "): the plugin read 0 rows; check that the files hold data in the "
                        "plugin's format");
    }
    slot.data = data::prepare(raw, settings);
    slot.data.fingerprint = fingerprint;
    RECPRUNE_INFO("grid", "dataset {}: {} rows ({} train, {} validation, {} test), {} fields, "
                          "fingerprint {}, loaded in {:.2f} s",
                  entry.plugin.name, raw.row_count, slot.data.train.row_count,
                  slot.data.validation.row_count, slot.data.test.row_count,
                  slot.data.fields.size(), fingerprint.substr(0, 16), load_seconds);
    return slot;
}

// A previous row counts as finished unless it failed and the run retries failed cells.
bool counts_as_finished(const boost::json::object& row, bool retry_failed) {
    const auto* status = row.if_contains("status");
    if (status == nullptr || !status->is_string()) return false;
    return status->as_string() != "failed" || !retry_failed;
}

// Prints "cells 12/40 done, 2 running, 1 failed, 00:31 elapsed, ETA 01:10" on a terminal.
class Progress {
public:
    Progress(size_t total, bool enabled) : total_(total), enabled_(enabled), start_(Clock::now()) {}

    void finished(bool failed, size_t running) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++done_;
        if (failed) ++failed_;
        show(running);
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
    void show(size_t running) {
        if (!enabled_) return;
        double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        std::string eta = done_ == 0 ? "--:--:--"
                                     : clock_text(elapsed / static_cast<double>(done_) *
                                                  static_cast<double>(total_ - done_));
        std::fprintf(stderr, "\rcells %zu/%zu done, %zu running, %zu failed, %s elapsed, ETA %s  ",
                     done_, total_, running, failed_, clock_text(elapsed).c_str(), eta.c_str());
        std::fflush(stderr);
        shown_ = true;
    }

    size_t total_;
    bool enabled_;
    Clock::time_point start_;
    size_t done_ = 0;
    size_t failed_ = 0;
    std::mutex mutex_;
    bool shown_ = false;
};

// Cells run at once on each rank when --threads was not given: the cores this rank may use,
// shared with the other ranks on its node.
int default_threads_per_rank(const scaleout::MpiSession& session, int cell_threads) {
    cpu_set_t set;
    CPU_ZERO(&set);
    int usable = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) usable = std::max(1, CPU_COUNT(&set));
    const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int share = std::min(usable, hardware / session.local_size());
    return std::max(1, share / std::max(1, cell_threads));
}

// Lists every cell of the grid with its shard, from which `recprune merge` learns which cells
// the shard folders should contain together.
boost::json::object make_manifest(const grid::Grid& grid, const std::vector<DatasetSlot>& datasets,
                                  const scaleout::Shard& shard) {
    boost::json::array cells;
    std::vector<std::string> ids;
    for (const auto& cell : grid.cells) {
        ids.push_back(cell.id);
        cells.push_back(boost::json::object{
            {"cell_id", cell.id},
            {"kind", cell.dense ? "dense" : "pruned"},
            {"shard", scaleout::shard_of(cell.id, shard.count)},
            {"cell", describe_cell(cell, datasets[cell.dataset])}});
    }
    std::sort(ids.begin(), ids.end());
    boost::json::array sorted_ids(ids.begin(), ids.end());
    return boost::json::object{{"schema_version", results::kSchemaVersion},
                               {"grid_name", grid.name},
                               {"grid_id", stable_id(sorted_ids)},
                               {"shard", {{"index", shard.index}, {"count", shard.count}}},
                               {"grid", grid.document},
                               {"cells", cells}};
}

// Exit code of the recprune command for an error, for MPI_Abort.
int exit_code_of(const std::exception& error) {
    if (dynamic_cast<const ConfigError*>(&error) != nullptr) return 2;
    if (dynamic_cast<const DataError*>(&error) != nullptr) return 3;
    if (dynamic_cast<const PluginError*>(&error) != nullptr) return 4;
    return 5;
}

RunSummary run_prepared(grid::Grid& grid, const plugin::PluginRegistry& registry,
                        const RunOptions& options, scaleout::MpiSession* mpi) {
    RunSummary summary;
    summary.cells = grid.cells.size();
    int threads = std::max(1, options.threads);
    if (mpi != nullptr && !options.threads_explicit) {
        threads = default_threads_per_rank(*mpi, options.cell_threads);
    }
    if (options.isolate && options.worker_arguments.empty()) {
        throw ConfigError("invalid option: --isolate: no worker arguments were given; run "
                          "isolated grids through the recprune command");
    }

    // 1. Datasets, once each, before any cell: a bad file stops the run here.
    std::vector<DatasetSlot> datasets = prepare_datasets(grid, options.cache_dir);

    scaleout::JobContext context{&grid, &datasets, {options.cell_threads, {}}};
    if (options.save_models) context.cell.model_folder = options.output / results::kModelFolder;
    scaleout::WorkerLaunch launch{options.worker_arguments};
    scaleout::ExecutorFactory factory = [&]() -> std::unique_ptr<scaleout::CellExecutor> {
        if (options.isolate) return scaleout::make_worker_process_executor(context, launch);
        return scaleout::make_in_process_executor(context);
    };
    if (mpi != nullptr && mpi->rank() != 0) {
        scaleout::serve_mpi_rank(*mpi, threads, factory);
        summary.primary = false;
        return summary;
    }

    // 2. The output folder: its lock, what a previous run finished, the manifest.
    results::ResultStore store(options.output);
    boost::json::object environment =
        describe_environment(registry, threads, options.cell_threads);
    environment["scale_out"] = boost::json::object{
        {"mode", mpi != nullptr ? "mpi" : "local"},
        {"ranks", mpi != nullptr ? mpi->size() : 1},
        {"isolate", options.isolate},
        {"shard", options.shard.text()}};
    std::set<std::string> used_plugins;
    for (const grid::DatasetEntry& dataset : grid.datasets) {
        used_plugins.insert("dataset/" + dataset.plugin.name);
    }
    for (const grid::Cell& cell : grid.cells) {
        used_plugins.insert("model/" + cell.model.name);
        if (cell.pruner) used_plugins.insert("pruner/" + cell.pruner->name);
    }
    log_run_header(environment, used_plugins);
    store.write_manifest(make_manifest(grid, datasets, options.shard));

    // 3. The jobs of this run.
    const size_t count = grid.cells.size();
    std::vector<bool> owned(count, true);
    std::vector<bool> finished(count, false);
    std::vector<double> estimates(count, 0.0);
    size_t retried = 0;
    for (size_t i = 0; i < count; ++i) {
        const auto& cell = grid.cells[i];
        if (!options.shard.whole()) {
            owned[i] = scaleout::shard_of(cell.id, options.shard.count) == options.shard.index;
        }
        auto previous = store.previous().find(cell.id);
        if (previous != store.previous().end()) {
            finished[i] = counts_as_finished(previous->second, options.retry_failed);
            if (!finished[i] && owned[i]) ++retried;
        }
        estimates[i] = scaleout::estimate_cost(cell, datasets[cell.dataset].data.train.row_count);
    }
    scaleout::JobPlan plan = scaleout::plan_jobs(grid, owned, finished, estimates);

    std::map<std::string, boost::json::object> rows;
    for (size_t cell : plan.reused_cells) {
        const std::string& id = grid.cells[cell].id;
        rows[id] = store.previous().at(id);
    }
    summary.reused = plan.reused_cells.size();
    size_t to_run = 0;
    size_t weights_only = 0;
    for (const auto& job : plan.jobs) (job.write_row ? to_run : weights_only) += 1;
    RECPRUNE_INFO("sched", "{} cells{}: {} to run ({} failed before), {} finished before; {} "
                           "dense model(s) trained again for their weights only",
                  plan.owned_cells,
                  options.shard.whole() ? "" : " in shard " + options.shard.text(), to_run,
                  retried, summary.reused, weights_only);

    // The memory and disk estimate, before the first cell starts.
    if (options.check_resources) {
        ResourceEstimate estimate = estimate_resources(grid, datasets, threads, to_run);
        RECPRUNE_DEBUG("sched", "estimated memory {} bytes ({}), disk {} bytes ({})",
                       estimate.memory_bytes, estimate.memory_detail, estimate.disk_bytes,
                       estimate.disk_detail);
        check_resources(estimate, available_resources(options.output), grid.source.string());
    }

    // 4. Run the jobs; each row is on disk before the next job of its slot starts.
    scaleout::CellScheduler scheduler(std::move(plan));
    Progress progress(to_run, options.progress);
    std::mutex rows_mutex;
    auto record = [&](const scaleout::Job& job, const scaleout::JobResult& result) {
        const grid::Cell& cell = grid.cells[job.cell];
        if (!job.write_row) {
            RECPRUNE_DEBUG("sched", "trained the dense model of {} again for its weights",
                           describe_cell(cell, datasets[cell.dataset]));
            return;
        }
        store.append_line(result.row_line);
        boost::json::object row = json_io::parse(result.row_line, "result row").as_object();
        const bool failed = row.at("status") == "failed";
        RECPRUNE_INFO("sched", "finished {} ({})", describe_cell(cell, datasets[cell.dataset]),
                      json_io::serialize(row.at("status")));
        {
            std::lock_guard<std::mutex> lock(rows_mutex);
            rows[cell.id] = std::move(row);
            ++summary.ran;
            if (failed) ++summary.failed;
        }
        // This job still counts as running until the scheduler hears of it after this call.
        progress.finished(failed, scheduler.running() - 1);
        if (failed && options.fail_fast) scheduler.stop();
    };
    if (mpi != nullptr) {
        scaleout::coordinate_mpi(*mpi, scheduler, record, threads, factory);
    } else {
        // Known limit: under MPI, mpirun owns the signals, so only this path stops cleanly.
        std::atomic<bool> slots_done{false};
        std::thread watcher([&] {
            while (!slots_done.load()) {
                if (interrupted()) {
                    RECPRUNE_WARN("sched", "interrupted: no new cell starts; the {} running "
                                           "cell(s) finish and the table is written; press "
                                           "Ctrl-C again to stop at once (finished rows are "
                                           "kept either way)",
                                  scheduler.running());
                    scheduler.stop();
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
        scaleout::SchedulerQueue queue(scheduler, record);
        std::optional<EarlyExitNotice> early_exit;
        if (options.early_exit_notice && !options.isolate) early_exit.emplace(store.rows_path());
        try {
            scaleout::run_slots(threads, factory, queue);
        } catch (...) {
            slots_done = true;
            watcher.join();
            throw;
        }
        slots_done = true;
        watcher.join();
        summary.interrupted = interrupted();
    }
    progress.close();

    // 5. The final table, in grid order.
    for (size_t i = 0; i < count; ++i) {
        if (!owned[i]) continue;
        auto found = rows.find(grid.cells[i].id);
        if (found != rows.end()) summary.rows.push_back(found->second);
    }
    store.write_table(grid.document, environment, summary.rows);
    summary.table_path = store.table_path();
    RECPRUNE_INFO("results", "wrote {} rows to {}", summary.rows.size(),
                  summary.table_path.string());
    return summary;
}

}  // namespace

std::vector<DatasetSlot> prepare_datasets(grid::Grid& grid,
                                          const std::filesystem::path& cache_dir) {
    std::vector<DatasetSlot> datasets;
    datasets.reserve(grid.datasets.size());
    for (const auto& entry : grid.datasets) datasets.push_back(load_dataset(entry, cache_dir));

    // Final cell ids include the dataset fingerprint, so changed data never reuses a row.
    for (auto& cell : grid.cells) {
        const std::string& fingerprint = datasets[cell.dataset].data.fingerprint;
        cell.group_id = stable_id(boost::json::object{{"group", cell.group_id},
                                                      {"fingerprint", fingerprint}});
        cell.id = cell.dense ? cell.group_id
                             : stable_id(boost::json::object{{"cell", cell.id},
                                                             {"fingerprint", fingerprint}});
    }
    return datasets;
}

RunSummary run_grid(grid::Grid& grid, const plugin::PluginRegistry& registry,
                    const RunOptions& options) {
    if (!options.mpi) return run_prepared(grid, registry, options, nullptr);

    auto session = scaleout::MpiSession::start();
    try {
        return run_prepared(grid, registry, options, session.get());
    } catch (const std::exception& e) {
        if (session->size() == 1) throw;
        // The other ranks wait on this one; only MPI_Abort ends them.
        RECPRUNE_ERROR("sched", "rank {} of {}: {}", session->rank(), session->size(), e.what());
        session->abort(exit_code_of(e));
    }
}

}  // namespace recprune::run
