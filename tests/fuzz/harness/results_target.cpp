#include "harness/harness.hpp"
#include "harness/host_errors.hpp"
#include "harness/support.hpp"

#include "report/report.hpp"
#include "report/report_format.hpp"
#include "results/result_store.hpp"

namespace recprune::fuzz {
namespace {

// The report and its formats over rows that read_rows accepted.
void check_report(const std::vector<boost::json::object>& rows) {
    accept_or_reject([&] {
        report::Report built = report::build_report(rows, report::ReportOptions{});
        report::FormatOptions format;
        report::to_markdown(built, format);
        report::groups_csv(built);
        report::areas_csv(built);
        report::groups_latex(built, format);
        report::areas_latex(built, format);
    });
}

// Reopening a folder repairs results.jsonl: afterwards every line is a row, one per cell, and
// the store can append.
void check_reopen(const std::filesystem::path& folder) {
    size_t kept = 0;
    bool has_new_id = false;
    {
        results::ResultStore store(folder);
        kept = store.previous().size();
        require(store.previous_lines().size() == kept, "previous rows and lines differ");
        has_new_id = store.previous().count("fuzz-appended") != 0;
        store.append(boost::json::object{{"cell_id", "fuzz-appended"}, {"status", "ok"}});
    }
    std::vector<std::pair<std::string, std::string>> lines =
        results::read_row_lines(folder / "results.jsonl");
    require(lines.size() == kept + (has_new_id ? 0 : 1),
            "the repaired file holds " + std::to_string(lines.size()) + " rows, expected " +
                std::to_string(kept + (has_new_id ? 0 : 1)));
    require(!lines.empty() && lines.back().first == "fuzz-appended",
            "the appended row is not the last line");
}

}  // namespace

void run_results(std::string_view input) {
    init_once();
    const std::filesystem::path folder = fresh_folder(scratch_dir() / "results");

    // The bytes as a results.jsonl: read, report, then reopen and repair.
    write_bytes(folder / "results.jsonl", input);
    accept_or_reject([&] {
        std::vector<boost::json::object> rows = results::read_rows(folder / "results.jsonl");
        check_report(rows);
    });
    accept_or_reject([&] { check_reopen(folder); });

    // The same bytes as the final table.
    write_bytes(folder / "results.json", input);
    accept_or_reject([&] {
        std::vector<boost::json::object> rows = results::read_rows(folder / "results.json");
        check_report(rows);
    });
}

}  // namespace recprune::fuzz
