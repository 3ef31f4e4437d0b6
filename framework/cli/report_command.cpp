#include "report_command.hpp"

#include "core/errors.hpp"
#include "core/join.hpp"
#include "core/log.hpp"
#include "report/report.hpp"
#include "report/report_files.hpp"
#include "report/report_format.hpp"

#include <boost/program_options.hpp>

#include <algorithm>

#include <iostream>

namespace po = boost::program_options;

namespace recprune::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr unsigned kHelpWidth = 100;

const char* const kUsage =
    "usage: recprune report RESULTS... [options]\n"
    "\n"
    "Groups result rows, prints a table (Markdown unless --format says otherwise) and writes\n"
    "report.md, groups.csv, groups.tex, areas.csv and areas.tex. RESULTS are results.json or\n"
    "results.jsonl files or run output folders. docs/report.md explains every column.\n";

/// Splits "a,b, c" into {"a", "b", "c"}, dropping empty parts.
std::vector<std::string> split_list(const std::vector<std::string>& texts) {
    std::vector<std::string> items;
    for (const auto& text : texts) {
        size_t start = 0;
        while (start <= text.size()) {
            size_t comma = text.find(',', start);
            std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                               : comma - start);
            size_t first = item.find_first_not_of(' ');
            size_t last = item.find_last_not_of(' ');
            if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    return items;
}

std::vector<std::pair<std::string, std::string>> parse_filters(
    const std::vector<std::string>& texts) {
    std::vector<std::pair<std::string, std::string>> filters;
    for (const auto& text : texts) {
        size_t equals = text.find('=');
        if (equals == std::string::npos || equals == 0) {
            throw ConfigError("invalid option: --where \"" + text +
                              "\": expected COLUMN=VALUE; give for example --where pruner=random");
        }
        filters.emplace_back(text.substr(0, equals), text.substr(equals + 1));
    }
    return filters;
}

}  // namespace

int command_report(const std::vector<std::string>& args) {
    std::vector<std::string> inputs;
    std::vector<std::string> group_by;
    std::vector<std::string> metrics;
    std::vector<std::string> where;
    report::ReportOptions options;
    report::FormatOptions format_options;
    std::string format = "markdown";
    std::string output_dir;
    bool no_files = false;
    bool no_dense = false;
    bool quiet = false;

    po::options_description described("options", kHelpWidth, kHelpWidth / 2);
    described.add_options()("help,h", "print this help")(
        "group-by,g", po::value<std::vector<std::string>>(&group_by)->composing(),
        "columns to group by, comma-separated: dataset, model, pruner, schedule, "
        "target_sparsity (or sparsity), seed, or a dotted path into a row such as "
        "pruner.params.granularity (default: dataset, model, pruner, schedule, "
        "target_sparsity)")(
        "metric,m", po::value<std::vector<std::string>>(&metrics)->composing(),
        "values to report, comma-separated: metric names such as auc, or dotted paths to "
        "numbers such as sparsity.all_parameters.sparsity (default every metric of the split)")(
        "split", po::value<std::string>(&options.split)->default_value("test"),
        "metrics part to read: test or validation")(
        "where", po::value<std::vector<std::string>>(&where)->composing(),
        "keep the pruned rows whose COLUMN shows VALUE, as COLUMN=VALUE (repeatable; "
        "pruner=magnitude matches every magnitude variant; dense baselines stay)")(
        "curve-x", po::value<std::string>(&options.curve_x)->default_value("target_sparsity"),
        "group column the area table integrates over")(
        "curve-from-dense", po::bool_switch(&options.curve_from_dense),
        "start each curve at x = 0 with the value of the dense model")(
        "format,f", po::value<std::string>(&format)->default_value("markdown"),
        "what to print: markdown, csv or latex")(
        "output-dir,o", po::value<std::string>(&output_dir),
        "folder for the report files (default: report/ beside the first RESULTS)")(
        "no-files", po::bool_switch(&no_files), "print only; write no files")(
        "no-dense", po::bool_switch(&no_dense), "leave out the dense baseline columns")(
        "bold-best", po::bool_switch(&format_options.bold_best),
        "set in bold, in Markdown and LaTeX, the best value among lines that differ only in "
        "the --compare column (metrics only; lower is better for logloss, rmse and mae)")(
        "compare", po::value<std::string>(&options.compare_column)->default_value("pruner"),
        "group column whose lines compete for --bold-best")(
        "digits", po::value<int>(&format_options.digits)->default_value(4),
        "decimals shown in Markdown and LaTeX (CSV keeps full precision)")(
        "quiet,q", po::bool_switch(&quiet), "do not log the files written");
    po::options_description hidden;
    hidden.add_options()("results", po::value<std::vector<std::string>>(&inputs));
    po::options_description all;
    all.add(described).add(hidden);
    po::positional_options_description positional;
    positional.add("results", -1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << kUsage << "\n" << described;
        return kExitOk;
    }
    if (inputs.empty()) {
        std::cerr << "invalid command line: no RESULTS given\n\n" << kUsage << "\n" << described;
        return kExitUsage;
    }

    // Check the options before reading any file.
    if (format != "markdown" && format != "csv" && format != "latex") {
        throw ConfigError("invalid option: --format \"" + format +
                          "\": not one of markdown, csv, latex; give one of them");
    }
    if (options.split != "test" && options.split != "validation") {
        throw ConfigError("invalid option: --split \"" + options.split +
                          "\": not one of test, validation; give one of them");
    }
    if (format_options.digits < 0 || format_options.digits > 17) {
        throw ConfigError("invalid option: --digits " + std::to_string(format_options.digits) +
                          ": outside 0 to 17; give for example 4");
    }
    if (!group_by.empty()) options.group_by = split_list(group_by);
    // The default column may be absent from a custom grouping (then there is no area table);
    // a column the user named must be there.
    if (!vm["curve-x"].defaulted() &&
        std::find(options.group_by.begin(), options.group_by.end(), options.curve_x) ==
            options.group_by.end()) {
        throw ConfigError("invalid option: --curve-x " + options.curve_x +
                          ": not one of the group columns (" + join(options.group_by) +
                          "); give one of them, or add it to --group-by");
    }
    options.values = split_list(metrics);
    options.filters = parse_filters(where);
    format_options.show_dense = !no_dense;

    std::vector<std::filesystem::path> paths(inputs.begin(), inputs.end());
    std::error_code ec;
    if (!no_files && !output_dir.empty() && std::filesystem::exists(output_dir, ec) &&
        !std::filesystem::is_directory(output_dir, ec)) {
        throw ConfigError("invalid option: --output-dir " + output_dir +
                          ": is a file, not a folder; give a folder or --no-files");
    }
    auto rows = report::read_results(paths);
    report::Report built = report::build_report(rows, options);

    if (format == "csv") {
        std::cout << report::groups_csv(built);
    } else if (format == "latex") {
        std::cout << report::groups_latex(built, format_options);
        std::string areas = report::areas_latex(built, format_options);
        if (!areas.empty()) std::cout << "\n" << areas;
    } else {
        std::cout << report::to_markdown(built, format_options);
    }

    if (!no_files) {
        std::filesystem::path folder = output_dir;
        if (folder.empty()) {
            folder = std::filesystem::is_directory(paths.front()) ? paths.front()
                                                                  : paths.front().parent_path();
            folder /= "report";
        }
        for (const auto& path : report::write_report_files(built, format_options, folder)) {
            if (!quiet) RECPRUNE_INFO("report", "wrote {}", path.string());
        }
    }
    return kExitOk;
}

}  // namespace recprune::cli
