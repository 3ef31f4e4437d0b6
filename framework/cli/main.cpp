// The recprune command: a thin layer over the host library.
//
// Exit codes: 0 every cell finished (ok or target not reached); 1 some cells failed;
// 2 invalid command line or grid; 3 unreadable or malformed data; 4 plugin rejected;
// 5 internal error; 6 results could not be written.
#include "merge_command.hpp"
#include "new_plugin_command.hpp"
#include "report_command.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "grid/grid.hpp"
#include "plugin/plugin_registry.hpp"
#include "report/summary_table.hpp"
#include "results/result_store.hpp"
#include "run/environment.hpp"
#include "run/granularity_check.hpp"
#include "run/grid_runner.hpp"
#include "run/interrupt.hpp"
#include "run/saved_models.hpp"
#include "scaleout/worker_process.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace po = boost::program_options;
using namespace recprune;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitCellsFailed = 1;
constexpr int kExitConfig = 2;
constexpr int kExitData = 3;
constexpr int kExitPlugin = 4;
constexpr int kExitInternal = 5;
constexpr int kExitOutput = 6;
constexpr int kExitInterrupted = 130;  // 128 + SIGINT, as shells report it

const char* const kUsage =
    "usage: recprune <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [GRID]        run a grid (the quickstart grid when GRID is omitted)\n"
    "  validate GRID     check a grid against the plugins without running it\n"
    "  plugins           list the plugins with their parameters (--json for machines)\n"
    "  --version         print the version and the plugin ABI version\n"
    "  report RESULTS    tables (Markdown, CSV, LaTeX) from result files\n"
    "  merge OUT DIR...  join the output folders of --shard runs into one table\n"
    "  evaluate GRID CELL_ID  evaluate a cell's models saved by run --save-models\n"
    "  new-plugin KIND NAME  write a pruner, dataset or model plugin folder to start from\n"
    "\n"
    "exit codes: 0 done, 1 some cells failed, 2 invalid command line or grid,\n"
    "            3 bad data, 4 plugin rejected, 5 internal error,\n"
    "            6 results could not be written\n";

std::filesystem::path default_quickstart() {
    std::filesystem::path in_source = std::filesystem::path(RECPRUNE_SOURCE_DIR) / "experiments" /
                                      "quickstart.json";
    if (std::filesystem::exists(in_source)) return in_source;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return exe.parent_path().parent_path() / "share" / "recprune" / "experiments" /
           "quickstart.json";
}

// $XDG_CACHE_HOME/recprune, else ~/.cache/recprune: parsed datasets are shared by every output
// folder and never written next to a folder the user named.
std::filesystem::path default_cache_dir() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
        return std::filesystem::path(xdg) / "recprune";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".cache" / "recprune";
    }
    return std::filesystem::temp_directory_path() / "recprune-cache";
}

struct Common {
    std::vector<std::string> plugin_dirs;
    bool allow_insecure = false;
    bool quiet = false;
    bool verbose = false;
};

po::options_description common_options(Common& common) {
    po::options_description options("common options");
    options.add_options()("help,h", "print this help")(
        "plugin-dir", po::value<std::vector<std::string>>(&common.plugin_dirs)->composing(),
        "add a folder to the plugin search path (searched first; repeatable)")(
        "allow-insecure-plugins", po::bool_switch(&common.allow_insecure),
        "load plugin files or folders that other users can write")(
        "quiet,q", po::bool_switch(&common.quiet), "log warnings and errors only")(
        "verbose,v", po::bool_switch(&common.verbose), "log decisions too (debug level)");
    return options;
}

void configure_logging(const Common& common) {
    const char* env = std::getenv("RECPRUNE_LOG");
    log::Level level = log::Level::Info;
    // The command-line flag overrides the variable.
    if (common.quiet) level = log::Level::Warn;
    if (common.verbose) level = log::Level::Debug;
    bool flag_given = common.quiet || common.verbose;
    log::configure(level, flag_given || env == nullptr ? "" : env);
}

plugin::PluginRegistry discover(const Common& common) {
    // The default folders may be absent (no install), but a folder the user names must exist:
    // a typo would otherwise only show as an unknown plugin.
    for (const std::string& dir : common.plugin_dirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            throw ConfigError("invalid option: --plugin-dir " + dir +
                              ": not a folder; give the folder that holds the plugin's .so "
                              "file (its build folder)");
        }
    }
    std::vector<std::filesystem::path> dirs(common.plugin_dirs.begin(), common.plugin_dirs.end());
    plugin::PluginRegistry registry;
    registry.discover(plugin::PluginRegistry::search_path(dirs), common.allow_insecure);
    return registry;
}

int command_plugins(const std::vector<std::string>& args) {
    Common common;
    bool as_json = false;
    auto options = common_options(common);
    options.add_options()("json", po::bool_switch(&as_json), "print every schema as JSON");
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << "usage: recprune plugins [--json]\n" << options;
        return kExitOk;
    }
    configure_logging(common);
    auto registry = discover(common);

    if (as_json) {
        boost::json::array list;
        for (const auto& p : registry.plugins()) {
            list.push_back(boost::json::object{{"name", p->name()},
                                               {"kind", plugin::kind_name(p->kind())},
                                               {"version", p->version()},
                                               {"description", p->description()},
                                               {"file", p->path().string()},
                                               {"parameters", p->parameters()}});
        }
        boost::json::array rejected;
        for (const auto& r : registry.rejected()) {
            rejected.push_back(boost::json::object{{"file", r.path.string()},
                                                   {"message", r.message}});
        }
        std::cout << json_io::serialize_pretty(
            boost::json::object{{"plugins", list}, {"rejected", rejected}});
        return kExitOk;
    }
    for (recprune_kind_t kind : {RECPRUNE_KIND_DATASET, RECPRUNE_KIND_MODEL, RECPRUNE_KIND_PRUNER}) {
        std::cout << plugin::kind_name(kind) << "s:\n";
        for (const auto& p : registry.plugins()) {
            if (p->kind() != kind) continue;
            std::cout << "  " << p->name() << " " << p->version() << ": " << p->description()
                      << "\n";
            for (const auto& [key, spec] : p->parameters()) {
                const auto& s = spec.as_object();
                std::cout << "    " << std::string(key) << " ("
                          << json_io::serialize(s.at("type")) << ", default "
                          << (s.contains("default") ? json_io::serialize(s.at("default"))
                                                    : std::string("required"))
                          << ")";
                if (const auto* help = s.if_contains("help"); help && help->is_string()) {
                    std::cout << ": " << std::string(help->as_string());
                }
                std::cout << "\n";
            }
        }
    }
    for (const auto& r : registry.rejected()) std::cout << "rejected: " << r.message << "\n";
    return kExitOk;
}

int command_validate(const std::vector<std::string>& args) {
    Common common;
    std::string grid_path;
    auto options = common_options(common);
    options.add_options()("grid", po::value<std::string>(&grid_path), "grid file");
    po::positional_options_description positional;
    positional.add("grid", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help") || grid_path.empty()) {
        std::cout << "usage: recprune validate GRID\n" << options;
        if (grid_path.empty() && !vm.count("help")) {
            std::cerr << "invalid command line: validate needs a grid file; give "
                         "`recprune validate GRID.json`\n";
            return kExitConfig;
        }
        return kExitOk;
    }
    configure_logging(common);
    auto registry = discover(common);
    grid::Grid grid = grid::load_grid(grid_path, registry);
    const auto mismatches = run::check_models(grid);
    size_t dense = 0;
    for (const auto& cell : grid.cells) dense += cell.dense ? 1 : 0;
    std::cout << grid_path << ": valid; " << grid.cells.size() << " cells (" << dense
              << " dense groups, " << grid.cells.size() - dense << " pruned cells) over "
              << grid.datasets.size() << " dataset(s)\n";
    if (!mismatches.empty()) {
        std::cerr << "warning: " << run::describe_mismatches(mismatches) << "\n";
    }
    return kExitOk;
}

// The output folder of a run of `grid`: --output, else the grid's "output", else
// results/<grid name>.
std::filesystem::path output_folder(const std::string& output, const grid::Grid& grid) {
    if (!output.empty()) return output;
    if (grid.output) return *grid.output;
    return std::filesystem::path("results") /
           (grid.name.empty() ? std::string("grid") : grid.name);
}

int command_run(const std::vector<std::string>& args) {
    Common common;
    std::string grid_path;
    std::string output;
    std::string cache_dir;
    int threads = 0;
    int cell_threads = 1;
    bool retry_failed = false;
    bool fail_fast = false;
    bool save_models = false;
    bool no_cache = false;
    bool skip_resource_check = false;
    auto options = common_options(common);
    options.add_options()("grid", po::value<std::string>(&grid_path), "grid file")(
        "output,o", po::value<std::string>(&output),
        "output folder (default: the grid's \"output\", else results/<grid name>)")(
        "threads,j", po::value<int>(&threads),
        "cells run at once (default: hardware threads / --cell-threads)")(
        "cell-threads", po::value<int>(&cell_threads),
        "oneDNN threads inside each cell (default 1; recorded, results may depend on it)")(
        "retry-failed", po::bool_switch(&retry_failed), "rerun cells that failed before")(
        "fail-fast", po::bool_switch(&fail_fast), "stop starting cells after the first failure")(
        "save-models", po::bool_switch(&save_models),
        "keep each cell's trained, pruned and compacted models in OUTPUT/models/CELL_ID/")(
        "cache-dir", po::value<std::string>(&cache_dir),
        "folder for the binary dataset cache (default: $XDG_CACHE_HOME/recprune or "
        "~/.cache/recprune)")(
        "no-cache", po::bool_switch(&no_cache), "parse datasets without the binary cache")(
        "skip-resource-check", po::bool_switch(&skip_resource_check),
        "start even when the memory or disk estimate exceeds what is available");
    cli::ScaleoutFlags scaleout;
    cli::add_scaleout_options(options, scaleout);
    po::positional_options_description positional;
    positional.add("grid", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << "usage: recprune run [GRID] [options]\n" << options;
        return kExitOk;
    }
    configure_logging(common);
    // Before any thread starts, because loading the grid builds models, which start OpenMP
    // threads. Under MPI, mpirun owns the signals.
    const run::InterruptHandling interrupts(!scaleout.mpi);
    if (grid_path.empty()) {
        grid_path = default_quickstart().string();
        RECPRUNE_INFO("grid", "no grid given; running the quickstart {}", grid_path);
    }
    if (cell_threads < 1) throw ConfigError("invalid option: --cell-threads " +
                                            std::to_string(cell_threads) + "; give 1 or more");
    if (vm.count("threads") && threads < 1) {
        throw ConfigError("invalid option: --threads " + std::to_string(threads) +
                          "; give 1 or more");
    }
    int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (threads == 0) threads = std::max(1, hardware / cell_threads);

    auto registry = discover(common);
    grid::Grid grid = grid::load_grid(grid_path, registry);
    if (const std::string mismatches = run::describe_mismatches(run::check_models(grid));
        !mismatches.empty()) {
        RECPRUNE_WARN("grid", "{}", mismatches);
    }

    run::RunOptions run_options;
    run_options.output = output_folder(output, grid);
    run_options.threads = threads;
    run_options.cell_threads = cell_threads;
    run_options.retry_failed = retry_failed;
    run_options.fail_fast = fail_fast;
    run_options.save_models = save_models;
    run_options.check_resources = !skip_resource_check;
    run_options.early_exit_notice = true;
    run_options.progress = ::isatty(STDERR_FILENO) != 0 && !common.quiet;
    if (!no_cache) {
        run_options.cache_dir =
            cache_dir.empty() ? default_cache_dir() : std::filesystem::path(cache_dir);
    }

    cli::apply_scaleout_options(scaleout,
                                {grid_path, common.plugin_dirs, common.allow_insecure,
                                 common.verbose, vm.count("threads") != 0},
                                run_options);

    run::RunSummary summary = run::run_grid(grid, registry, run_options);
    if (!summary.primary) return kExitOk;  // MPI ranks other than 0 print nothing
    if (summary.interrupted) {
        std::cerr << "interrupted: " << summary.rows.size() << " of " << summary.cells
                  << " cells have rows in " << summary.table_path.string()
                  << "; rerun the same command to run the rest\n";
        return kExitInterrupted;
    }

    // Every cell's metrics, in order of first appearance: a grid with a CTR and a rating
    // dataset reports AUC for one and RMSE for the other.
    std::vector<std::string> metrics;
    for (const auto& cell : grid.cells) {
        for (const std::string& metric : cell.metrics) {
            if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end()) {
                metrics.push_back(metric);
            }
        }
    }
    std::cout << report::summary_table(summary.rows, metrics);
    // Failed rows of the table, the reused ones included: a rerun without --retry-failed keeps
    // them, and they still lack results.
    size_t failed_rows = 0;
    for (const auto& row : summary.rows) failed_rows += row.at("status") == "failed" ? 1 : 0;
    std::cout << "\n" << summary.rows.size() << " rows (" << summary.ran << " run, "
              << summary.reused << " reused, " << failed_rows << " failed) in "
              << summary.table_path.string() << "\n";
    if (failed_rows > summary.failed) {
        std::cerr << failed_rows - summary.failed
                  << " failed rows were reused from an earlier run; rerun with --retry-failed "
                     "to run those cells again\n";
    }
    if (save_models) {
        size_t unsaved = 0;
        size_t without = 0;
        for (const auto& row : summary.rows) {
            const auto* saved = row.if_contains("saved_models");
            if (saved == nullptr) {
                without += row.at("status") != "failed" ? 1 : 0;
            } else if (saved->as_object().contains("errors")) {
                ++unsaved;
            }
        }
        if (unsaved > 0) {
            std::cerr << unsaved << " rows could not write some model files; their "
                         "saved_models.errors say why\n";
        }
        if (without > 0) {
            std::cerr << without << " rows reused from an earlier run have no saved models; "
                         "run the grid into a new output folder with --save-models to keep "
                         "them\n";
        }
    }
    return failed_rows > 0 ? kExitCellsFailed : kExitOk;
}

std::string metric_text(const boost::json::value& metric) {
    if (!metric.is_object()) return "-";
    const auto& value = metric.as_object().at("value");
    if (value.is_null()) return "null (" + std::string(metric.at("status").as_string()) + ")";
    std::ostringstream out;
    out << std::setprecision(10) << value.to_number<double>();
    return out.str();
}

int command_evaluate(const std::vector<std::string>& args) {
    Common common;
    std::string grid_path;
    std::string cell_id;
    std::string output;
    std::string cache_dir;
    std::vector<std::string> models;
    int cell_threads = 0;
    bool no_cache = false;
    auto options = common_options(common);
    options.add_options()("grid", po::value<std::string>(&grid_path), "grid file")(
        "cell", po::value<std::string>(&cell_id), "cell id")(
        "output,o", po::value<std::string>(&output),
        "output folder of the run (default: as for run)")(
        "model", po::value<std::vector<std::string>>(&models)->composing(),
        "dense, pruned or compacted (repeatable; default: every model the row lists)")(
        "cell-threads", po::value<int>(&cell_threads),
        "oneDNN threads (default: the row's, so the values can match exactly)")(
        "cache-dir", po::value<std::string>(&cache_dir), "folder of the binary dataset cache")(
        "no-cache", po::bool_switch(&no_cache), "parse datasets without the binary cache");
    po::positional_options_description positional;
    positional.add("grid", 1).add("cell", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << "usage: recprune evaluate GRID CELL_ID [-o OUTPUT] [--model M]\n" << options;
        return kExitOk;
    }
    if (grid_path.empty() || cell_id.empty()) {
        throw ConfigError("invalid command line: evaluate needs a grid file and a cell id; give "
                          "`recprune evaluate GRID.json CELL_ID -o OUTPUT` with an id from "
                          "OUTPUT/cells.json");
    }
    for (const std::string& model : models) {
        if (model != "dense" && model != "pruned" && model != "compacted") {
            throw ConfigError("invalid option: --model " + model +
                              "; give dense, pruned or compacted");
        }
    }
    if (vm.count("cell-threads") && cell_threads < 1) {
        throw ConfigError("invalid option: --cell-threads " + std::to_string(cell_threads) +
                          "; give 1 or more");
    }
    configure_logging(common);
    auto registry = discover(common);
    grid::Grid grid = grid::load_grid(grid_path, registry);
    const std::filesystem::path folder = output_folder(output, grid);
    const std::filesystem::path cache =
        no_cache ? std::filesystem::path()
                 : (cache_dir.empty() ? default_cache_dir() : std::filesystem::path(cache_dir));
    const run::SavedModelEvaluation evaluation = run::evaluate_saved_models(
        grid, folder, cell_id, models, cache, cell_threads);

    std::cout << "cell " << evaluation.cell_id << " (" << evaluation.cell << ")\n\n"
              << "| model | part | metric | row | saved model | difference | agrees |\n"
              << "| --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& metric : evaluation.metrics) {
        std::ostringstream difference;
        difference << std::setprecision(3) << metric.difference;
        std::cout << "| " << metric.model << " | " << metric.part << " | " << metric.metric
                  << " | " << metric_text(metric.recorded) << " | "
                  << metric_text(metric.recomputed) << " | " << difference.str() << " | "
                  << (metric.agrees() ? "yes" : "no") << " |\n";
    }
    if (!evaluation.not_in_row.empty()) {
        std::string names;
        for (const auto& metric : evaluation.not_in_row) names += (names.empty() ? "" : ", ") + metric;
        std::cout << "\nnot compared, because the row has no value for them (added to the grid "
                     "after the run): "
                  << names << "\n";
    }
    if (evaluation.agrees()) {
        std::cout << "\nevery value agrees with the row (within 1e-6, or for a compacted model "
                     "within the largest logit difference its run recorded, if larger)\n";
        return kExitOk;
    }
    std::cout << "\nsome values differ from the row beyond the tolerance; the files may come "
                 "from another run or the data may have changed\n";
    return kExitCellsFailed;
}

}  // namespace

int main(int argc, char** argv) {
    // Before any thread pool exists, so oneTBB and OpenMP threads inherit it.
    run::enable_flush_to_zero();
    log::configure(log::Level::Info, "");
    if (argc < 2) {
        std::cerr << kUsage;
        return kExitConfig;
    }
    std::string command = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    try {
        if (command == "run") return command_run(args);
        if (command == "validate") return command_validate(args);
        if (command == "plugins") return command_plugins(args);
        if (command == "report") return cli::command_report(args);
        if (command == "new-plugin") return cli::command_new_plugin(args);
        if (command == "merge") return cli::command_merge(args);
        if (command == "evaluate") return command_evaluate(args);
        if (command == scaleout::kCellWorkerCommand) return cli::command_cell_worker(args);
        if (command == "--version" || command == "version") {
            std::cout << "recprune " << RECPRUNE_VERSION << " (plugin ABI "
                      << RECPRUNE_ABI_MAJOR << "." << RECPRUNE_ABI_MINOR << ")\n";
            return kExitOk;
        }
        if (command == "-h" || command == "--help" || command == "help") {
            std::cout << kUsage;
            return kExitOk;
        }
        std::cerr << "invalid command: \"" << command << "\"\n" << kUsage;
        return kExitConfig;
    } catch (const po::error& e) {
        std::cerr << "recprune: invalid command line: " << e.what()
                  << "; see recprune " << command << " --help\n";
        return kExitConfig;
    } catch (const ConfigError& e) {
        std::cerr << e.what() << "\n";
        return kExitConfig;
    } catch (const DataError& e) {
        std::cerr << e.what() << "\n";
        return kExitData;
    } catch (const PluginError& e) {
        std::cerr << e.what() << "\n";
        return kExitPlugin;
    } catch (const OutputError& e) {
        std::cerr << e.what() << "\n";
        return kExitOutput;
    } catch (const std::exception& e) {
        std::cerr << "recprune: internal error: " << e.what() << "\n";
        return kExitInternal;
    }
}
