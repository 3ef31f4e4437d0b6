#include "report/report_files.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "results/result_store.hpp"

#include <map>
#include <set>

namespace recprune::report {
namespace {

std::filesystem::path resolve_input(const std::filesystem::path& input) {
    if (!std::filesystem::is_directory(input)) return input;
    for (const char* name : {"results.json", "results.jsonl"}) {
        if (std::filesystem::exists(input / name)) return input / name;
    }
    throw ConfigError("cannot read results: " + input.string() +
                      ": the folder has no results.json or results.jsonl; give the output "
                      "folder of a recprune run");
}

// Warns when the output folder of `results` lists, in its cells.json, cells that have no row,
// so that a table from an interrupted or partial run is not taken for the whole grid.
void warn_when_incomplete(const std::filesystem::path& results,
                          const std::vector<boost::json::object>& rows) {
    const std::filesystem::path manifest = results.parent_path() / "cells.json";
    std::error_code ec;
    if (!std::filesystem::exists(manifest, ec)) return;
    boost::json::value value;
    try {
        value = json_io::parse_file(manifest);
    } catch (const std::exception&) {
        return;  // a broken manifest is for merge to report, because a report reads only rows
    }
    const auto* cells = value.is_object() ? value.as_object().if_contains("cells") : nullptr;
    if (cells == nullptr || !cells->is_array()) return;
    std::set<std::string> with_row;
    for (const auto& row : rows) {
        if (const auto* id = row.if_contains("cell_id"); id != nullptr && id->is_string()) {
            with_row.insert(std::string(id->as_string()));
        }
    }
    size_t covered = 0;
    for (const auto& cell : cells->as_array()) {
        const auto* id = cell.is_object() ? cell.as_object().if_contains("cell_id") : nullptr;
        if (id != nullptr && id->is_string() && with_row.count(std::string(id->as_string()))) {
            ++covered;
        }
    }
    if (covered < cells->as_array().size()) {
        RECPRUNE_WARN("report", "{}: rows for {} of the {} cells its grid lists in {}; the "
                                "table is incomplete, so rerun the grid to finish it",
                      results.string(), covered, cells->as_array().size(), manifest.string());
    }
}

}  // namespace

std::vector<boost::json::object> read_results(const std::vector<std::filesystem::path>& inputs) {
    std::vector<boost::json::object> rows;
    std::map<std::string, size_t> index_of_cell;
    for (const auto& input : inputs) {
        const std::filesystem::path path = resolve_input(input);
        std::vector<boost::json::object> file_rows = results::read_rows(path);
        warn_when_incomplete(path, file_rows);
        for (auto& row : file_rows) {
            const auto* id = row.if_contains("cell_id");
            std::string cell_id = id != nullptr && id->is_string() ? std::string(id->as_string())
                                                                   : std::string();
            auto found = cell_id.empty() ? index_of_cell.end() : index_of_cell.find(cell_id);
            if (found != index_of_cell.end()) {
                rows[found->second] = std::move(row);
                continue;
            }
            if (!cell_id.empty()) index_of_cell[cell_id] = rows.size();
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

std::vector<std::filesystem::path> write_report_files(const Report& report,
                                                      const FormatOptions& options,
                                                      const std::filesystem::path& folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) {
        throw OutputError("cannot create report folder: " + folder.string() + ": " +
                          ec.message() + "; give another --output-dir or --no-files");
    }
    std::vector<std::pair<std::string, std::string>> files = {
        {"report.md", to_markdown(report, options)},
        {"groups.csv", groups_csv(report)},
        {"groups.tex", groups_latex(report, options)}};
    if (!report.curve_x.empty() && !report.curves.empty()) {
        files.emplace_back("areas.csv", areas_csv(report));
        files.emplace_back("areas.tex", areas_latex(report, options));
    }
    std::vector<std::filesystem::path> written;
    for (const auto& [name, content] : files) {
        json_io::write_file_atomic(folder / name, content);
        written.push_back(folder / name);
    }
    return written;
}

}  // namespace recprune::report
