#include "report/report_files.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "results/result_store.hpp"

#include <map>

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

}  // namespace

std::vector<boost::json::object> read_results(const std::vector<std::filesystem::path>& inputs) {
    std::vector<boost::json::object> rows;
    std::map<std::string, size_t> index_of_cell;
    for (const auto& input : inputs) {
        for (auto& row : results::read_rows(resolve_input(input))) {
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
    std::filesystem::create_directories(folder);
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
