// The report of `recprune report`. It groups result rows by any columns and gives, per group,
// the mean and the sample standard deviation of each value over seeds, the counts of failed
// and undefined cells and the dense baseline of the same rows. A second table gives the area
// under each value-versus-sparsity curve. report_format.hpp turns a Report into Markdown, CSV
// and LaTeX.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recprune::report {

/// Settings of a report. The defaults give one line per dataset, model, pruner, schedule and
/// target sparsity with every test metric.
struct ReportOptions {
    /// Group columns: row keys or dotted paths (see columns.hpp).
    std::vector<std::string> group_by = {"dataset", "model", "pruner", "schedule",
                                         "target_sparsity"};
    /// Value columns: metric names or dotted paths to numbers; empty = every metric of `split`.
    std::vector<std::string> values;
    /// The metrics part read for metric columns: "test" or "validation".
    std::string split = "test";
    /// Keeps only pruned rows whose column (first) shows the text (second), such as
    /// {"pruner", "random"}. Dense rows stay, as the baselines of the rows kept.
    std::vector<std::pair<std::string, std::string>> filters;
    /// The group column the curves run along; no area table when it is not a group column.
    std::string curve_x = "target_sparsity";
    /// Starts each seed's curve at x = 0 with the value of its dense model.
    bool curve_from_dense = false;
    /// The group column whose lines compete for the best value (see GroupRow::best).
    std::string compare_column = "pruner";
};

/// Statistics of one value over the rows of a group.
struct Statistic {
    size_t count = 0;               ///< rows with a defined value
    double mean = 0.0;              ///< meaningful when count > 0
    std::optional<double> std_dev;  ///< sample standard deviation (n - 1), when count >= 2
    size_t undefined = 0;           ///< rows that finished without a value (e.g. AUC of one class)
    size_t failed = 0;              ///< rows whose cell failed
};

/// Returns the mean and the sample standard deviation of `values`.
Statistic summarize(const std::vector<double>& values);

/// One line of the main table.
struct GroupRow {
    std::vector<std::string> labels;                ///< per group column
    std::vector<std::optional<double>> numbers;     ///< per group column, for numeric columns
    size_t rows = 0;
    size_t seeds = 0;                               ///< distinct seeds among the rows
    size_t failed = 0;
    size_t not_reached = 0;                         ///< rows with status target_not_reached
    std::vector<Statistic> values;                  ///< per value column
    std::vector<Statistic> dense;                   ///< per value column, over the dense rows
    /// Per value column: true when this line has the best mean among the lines that differ
    /// from it only in the compare column (ties are all best). Always false for values whose
    /// direction is unknown (dotted paths) and when the compare column is not a group column.
    std::vector<bool> best;
};

/// Returns true when a lower value of metric `column` is better (log loss, RMSE, MAE) and false
/// when a higher one is (AUC, GAUC, the ranking metrics), by the rule of the trainer's early
/// stopping. Returns nothing for dotted paths, whose direction the report cannot know.
std::optional<bool> lower_is_better(const std::string& column);

/// The area under one value-versus-x curve, computed per seed and summarized over seeds.
struct Area {
    size_t points = 0;        ///< distinct x values of the curve
    double from = 0.0;
    double to = 0.0;
    size_t incomplete_seeds = 0;  ///< seeds left out because a point had no value
    Statistic area;           ///< trapezoidal area over the complete seeds
    Statistic normalized;     ///< area divided by (to - from): the curve's mean height
};

/// One line of the area table: a curve per group of the columns other than curve_x.
struct CurveRow {
    std::vector<std::string> labels;
    std::vector<std::optional<double>> numbers;
    std::vector<Area> areas;  ///< per value column
};

struct Report {
    std::vector<std::string> group_columns;
    std::vector<std::string> value_columns;
    std::string split;
    std::vector<GroupRow> groups;
    std::string curve_x;                    ///< empty when there is no area table
    bool curve_from_dense = false;
    std::vector<std::string> curve_columns;
    std::vector<CurveRow> curves;
    std::string compare_column;             ///< the column whose lines compete for GroupRow::best
    size_t input_rows = 0;
    size_t filtered_out = 0;                ///< pruned rows the filters left out
    std::vector<std::string> filter_texts;  ///< the filters as given, such as "dataset=criteo"
    size_t pruned_rows = 0;                 ///< pruned rows in the groups
    size_t dense_rows = 0;                  ///< dense rows those pruned rows started from
    size_t failed_rows = 0;                 ///< pruned and dense rows above that failed
    std::vector<std::string> notes;         ///< caveats found while building, one sentence each
    /// True when some line contains several rows of one seed, so its statistics are over rows
    /// that differ in a column left out of the grouping, not over seeds.
    bool statistics_over_rows = false;
};

/// Builds the report. Rows are result rows as written by `recprune run`; dense rows serve as
/// baselines and pruned rows form the groups. Throws ConfigError for an empty group list, rows
/// without a pruned row, or a curve column that is not numeric.
Report build_report(const std::vector<boost::json::object>& rows, const ReportOptions& options);

}  // namespace recprune::report
