// Reading result files for a report and writing the report's files.
#pragma once

#include "report/report.hpp"
#include "report/report_format.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <vector>

namespace recprune::report {

/// Reads the rows of every input: a results.json or results.jsonl file, or an output folder
/// (its results.json, else its results.jsonl while a run is still going). A cell id met twice
/// keeps its last row, so a table and its own rows file may be given together. Throws
/// ConfigError for a missing input and DataError for a malformed one.
std::vector<boost::json::object> read_results(const std::vector<std::filesystem::path>& inputs);

/// Writes report.md, groups.csv, groups.tex and, when the report has an area table, areas.csv
/// and areas.tex into `folder` (created when missing), each atomically. Returns the paths.
std::vector<std::filesystem::path> write_report_files(const Report& report,
                                                      const FormatOptions& options,
                                                      const std::filesystem::path& folder);

}  // namespace recprune::report
