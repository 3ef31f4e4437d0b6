// Text forms of a Report: Markdown for reading and pasting, CSV for pandas, LaTeX (booktabs)
// for papers. Markdown and LaTeX move group columns that hold one value in every line into a
// sentence above the table; CSV keeps every column and full precision.
#pragma once

#include "report/report.hpp"

#include <string>

namespace recprune::report {

struct FormatOptions {
    int digits = 4;           ///< decimals of means and standard deviations below 1000
    bool show_dense = true;   ///< adds a "dense <value>" column beside each value column
    bool bold_best = false;   ///< sets the best value of each contest in bold (GroupRow::best)
};

/// Returns both tables (groups, then areas) with the sentences that explain them.
std::string to_markdown(const Report& report, const FormatOptions& options);

/// Returns the group table as CSV: the group columns, rows, seeds, failed, not_reached, then
/// per value column <value>_mean, _std, _count, _undefined, _dense_mean, _dense_std,
/// _dense_count. Missing numbers are empty fields, which pandas reads as NaN.
std::string groups_csv(const Report& report);

/// Returns the area table as CSV: the curve columns, points, from, to, then per value column
/// <value>_area_mean, _area_std, _normalized_mean, _normalized_std, _seeds, _incomplete_seeds.
/// Returns an empty string when the report has no area table.
std::string areas_csv(const Report& report);

/// Returns the group table as a booktabs tabular (needs \usepackage{booktabs}).
std::string groups_latex(const Report& report, const FormatOptions& options);

/// Returns the area table as a booktabs tabular, or an empty string when there is none.
std::string areas_latex(const Report& report, const FormatOptions& options);

}  // namespace recprune::report
