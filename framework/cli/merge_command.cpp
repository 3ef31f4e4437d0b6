#include "merge_command.hpp"

#include "core/errors.hpp"
#include "core/log.hpp"
#include "grid/grid.hpp"
#include "plugin/plugin_registry.hpp"
#include "report/summary_table.hpp"
#include "results/merge.hpp"
#include "results/result_store.hpp"
#include "scaleout/executor.hpp"
#include "scaleout/worker_process.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace recprune::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitIncomplete = 1;
constexpr int kExitUsage = 2;

const char* const kMergeUsage =
    "usage: recprune merge OUT SHARD_DIR... [options]\n"
    "\n"
    "Joins the output folders of `recprune run --shard K/N` jobs of one grid into OUT\n"
    "(results.jsonl, results.json, cells.json) and prints the table. Lists the cells no folder\n"
    "holds, with their shard, and the cells two folders hold with different results.\n"
    "Exit code 0 when every cell is there without conflict or failure, 1 otherwise.\n";

std::string absolute_text(const std::string& path) {
    return std::filesystem::absolute(path).lexically_normal().string();
}

}  // namespace

void add_scaleout_options(po::options_description& options, ScaleoutFlags& flags) {
    options.add_options()(
        "shard", po::value<std::string>(&flags.shard),
        "run only shard K of N (K/N, K from 1 to N) of the cells, for cluster job arrays; "
        "join the shard folders with recprune merge")(
        "mpi", po::bool_switch(&flags.mpi),
        "run under mpirun: rank 0 hands cells to every rank and writes the results")(
        "isolate", po::bool_switch(&flags.isolate),
        "run each cell in a worker process, so a plugin that crashes fails only its cell");
}

void apply_scaleout_options(const ScaleoutFlags& flags, const RunInvocation& invocation,
                            run::RunOptions& options) {
    if (!flags.shard.empty()) options.shard = scaleout::parse_shard(flags.shard);
    options.mpi = flags.mpi;
    options.isolate = flags.isolate;
    options.threads_explicit = invocation.threads_given;
    if (!flags.isolate) return;

    // The worker loads what the parent loaded. Paths are absolute, so they do not depend on
    // the working directory.
    auto& arguments = options.worker_arguments;
    arguments = {"--grid", absolute_text(invocation.grid_path), "--cell-threads",
                 std::to_string(options.cell_threads)};
    for (const auto& dir : invocation.plugin_dirs) {
        arguments.push_back("--plugin-dir");
        arguments.push_back(absolute_text(dir));
    }
    if (invocation.allow_insecure_plugins) arguments.push_back("--allow-insecure-plugins");
    if (options.save_models) {
        arguments.push_back("--save-models");
        arguments.push_back(absolute_text((options.output / results::kModelFolder).string()));
    }
    if (options.cache_dir.empty()) {
        arguments.push_back("--no-cache");
    } else {
        arguments.push_back("--cache-dir");
        arguments.push_back(absolute_text(options.cache_dir.string()));
    }
    // The parent logs the run; workers add only warnings and errors unless asked for more.
    arguments.push_back(invocation.verbose ? "--verbose" : "--quiet");
}

int command_merge(const std::vector<std::string>& args) {
    std::vector<std::string> folders;
    bool quiet = false;
    po::options_description options("merge options");
    options.add_options()("help,h", "print this help")(
        "quiet,q", po::bool_switch(&quiet), "print only the summary, not the table")(
        "folders", po::value<std::vector<std::string>>(&folders), "OUT then shard folders");
    po::positional_options_description positional;
    positional.add("folders", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << kMergeUsage << options;
        return kExitOk;
    }
    if (folders.size() < 2) {
        std::cerr << kMergeUsage;
        return kExitUsage;
    }

    std::vector<std::filesystem::path> inputs(folders.begin() + 1, folders.end());
    results::MergeReport report = results::merge_results(folders.front(), inputs);

    if (!quiet) {
        auto rows = results::read_rows(report.table_path);
        // Every row's test metrics, in order of first appearance, as `run` prints them.
        std::vector<std::string> metrics;
        for (const auto& row : rows) {
            const auto* test = row.if_contains("metrics");
            if (test == nullptr || !test->is_object()) continue;
            const auto* values = test->as_object().if_contains("test");
            if (values == nullptr || !values->is_object()) continue;
            for (const auto& entry : values->as_object()) {
                const std::string name(entry.key());
                if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) {
                    metrics.push_back(name);
                }
            }
        }
        std::cout << report::summary_table(rows, metrics) << "\n";
    }
    for (const auto& issue : report.missing) {
        std::cout << "missing: " << issue.cell << " (cell " << issue.cell_id << "): "
                  << issue.detail << "\n";
    }
    for (const auto& issue : report.conflicts) {
        std::cout << "conflict: " << issue.cell << " (cell " << issue.cell_id << "): "
                  << issue.detail << "\n";
    }
    std::cout << report.merged << " of " << report.expected << " cells merged from "
              << inputs.size() << " folder(s) into " << report.table_path.string() << ": "
              << report.missing.size() << " missing, " << report.conflicts.size()
              << " conflicting, " << report.failed << " failed, " << report.duplicates
              << " found twice with equal results";
    if (report.extra > 0) std::cout << ", " << report.extra << " rows of other grids left out";
    std::cout << "\n";
    return report.complete() && report.failed == 0 ? kExitOk : kExitIncomplete;
}

int command_cell_worker(const std::vector<std::string>& args) {
    // Ctrl-C reaches the whole process group. The parent decides: it lets running cells
    // finish, so a worker must not die with its cell half done.
    std::signal(SIGINT, SIG_IGN);
    int socket = -1;
    std::string grid_path;
    std::vector<std::string> plugin_dirs;
    bool allow_insecure = false;
    std::string cache_dir;
    bool no_cache = false;
    int cell_threads = 1;
    std::string save_models;
    bool quiet = false;
    bool verbose = false;
    po::options_description options("worker process options");
    options.add_options()("socket-fd", po::value<int>(&socket)->required(), "")(
        "grid", po::value<std::string>(&grid_path)->required(), "")(
        "plugin-dir", po::value<std::vector<std::string>>(&plugin_dirs)->composing(), "")(
        "allow-insecure-plugins", po::bool_switch(&allow_insecure), "")(
        "cache-dir", po::value<std::string>(&cache_dir), "")(
        "no-cache", po::bool_switch(&no_cache), "")(
        "cell-threads", po::value<int>(&cell_threads), "")(
        "save-models", po::value<std::string>(&save_models), "")(
        "quiet", po::bool_switch(&quiet), "")("verbose", po::bool_switch(&verbose), "");
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);

    const char* env = std::getenv("RECPRUNE_LOG");
    log::configure(verbose ? log::Level::Debug : (quiet ? log::Level::Warn : log::Level::Info),
                   quiet || verbose || env == nullptr ? "" : env);

    std::vector<std::filesystem::path> dirs(plugin_dirs.begin(), plugin_dirs.end());
    plugin::PluginRegistry registry;
    registry.discover(plugin::PluginRegistry::search_path(dirs), allow_insecure);
    grid::Grid grid = grid::load_grid(grid_path, registry);
    std::vector<run::DatasetSlot> datasets =
        run::prepare_datasets(grid, no_cache ? std::filesystem::path() : std::filesystem::path(cache_dir));
    scaleout::JobContext context{&grid, &datasets, {std::max(1, cell_threads), save_models}};
    return scaleout::serve_cell_worker(socket, context);
}

}  // namespace recprune::cli
