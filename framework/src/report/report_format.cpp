#include "report/report_format.hpp"

#include "core/join.hpp"
#include "report/columns.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace recprune::report {
namespace {

struct Table {
    std::vector<std::string> header;
    std::vector<bool> right_aligned;
    std::vector<std::vector<std::string>> lines;
};

/// Formats a mean or deviation for reading: `digits` decimals below 1000, whole numbers above
/// (parameter counts and bytes need no decimals).
std::string format_number(double value, int digits) {
    char buffer[64];
    if (std::fabs(value) >= 1000.0) {
        std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    } else {
        std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
    }
    return buffer;
}

std::string count_notes(const Statistic& statistic, bool show_failed) {
    std::string out;
    if (statistic.undefined > 0) out += " (" + std::to_string(statistic.undefined) + " undefined)";
    if (show_failed && statistic.failed > 0) {
        out += " (" + std::to_string(statistic.failed) + " failed)";
    }
    return out;
}

std::string statistic_text(const Statistic& statistic, int digits, const std::string& plus_minus,
                           bool show_failed) {
    std::string out = "n/a";
    if (statistic.count > 0) {
        out = format_number(statistic.mean, digits);
        if (statistic.std_dev) out += plus_minus + format_number(*statistic.std_dev, digits);
    }
    return out + count_notes(statistic, show_failed);
}

std::string area_text(const Area& area, int digits, const std::string& plus_minus) {
    std::string out = statistic_text(area.normalized, digits, plus_minus, false);
    if (area.incomplete_seeds > 0) {
        out += " (" + std::to_string(area.incomplete_seeds) + " seed" +
               (area.incomplete_seeds == 1 ? "" : "s") + " left out)";
    }
    return out;
}

/// Returns the group columns that differ between lines; all of them when none does.
std::vector<size_t> varying_columns(const std::vector<std::vector<std::string>>& labels,
                                    size_t column_count) {
    std::vector<size_t> varying;
    for (size_t c = 0; c < column_count; ++c) {
        for (const auto& line : labels) {
            if (line[c] != labels.front()[c]) {
                varying.push_back(c);
                break;
            }
        }
    }
    if (varying.empty() || labels.size() < 2) {
        varying.clear();
        for (size_t c = 0; c < column_count; ++c) varying.push_back(c);
    }
    return varying;
}

/// Returns "dataset = movietweetings, model = fm" for the columns not in `visible`.
std::string fixed_columns_text(const std::vector<std::string>& columns,
                               const std::vector<std::string>& first_line,
                               const std::vector<size_t>& visible) {
    std::string out;
    for (size_t c = 0; c < columns.size(); ++c) {
        if (std::find(visible.begin(), visible.end(), c) != visible.end()) continue;
        if (!out.empty()) out += ", ";
        out += columns[c] + " = " + first_line[c];
    }
    return out;
}

std::vector<std::vector<std::string>> group_labels(const Report& report) {
    std::vector<std::vector<std::string>> labels;
    for (const auto& group : report.groups) labels.push_back(group.labels);
    return labels;
}

std::vector<std::vector<std::string>> curve_labels(const Report& report) {
    std::vector<std::vector<std::string>> labels;
    for (const auto& curve : report.curves) labels.push_back(curve.labels);
    return labels;
}

/// Names what the spread of a cell is taken over: seeds, unless a line pools several rows of one
/// seed (grouped by fewer columns than the grid's axes).
std::string spread_text(const Report& report) {
    return report.statistics_over_rows ? "over the rows of each line" : "over seeds";
}

bool any_not_reached(const Report& report) {
    return std::any_of(report.groups.begin(), report.groups.end(),
                       [](const GroupRow& group) { return group.not_reached > 0; });
}

/// Markup around a cell: "**" and "**" in Markdown, "\textbf{" and "}" in LaTeX.
struct Emphasis {
    std::string open;
    std::string close;
};

Table build_group_table(const Report& report, const FormatOptions& options,
                        const std::vector<size_t>& visible, const std::string& plus_minus,
                        const Emphasis& bold) {
    Table table;
    bool not_reached = any_not_reached(report);
    for (size_t c : visible) {
        table.header.push_back(report.group_columns[c]);
        table.right_aligned.push_back(report.groups.front().numbers[c].has_value());
    }
    table.header.insert(table.header.end(), {"seeds", "failed"});
    table.right_aligned.insert(table.right_aligned.end(), {true, true});
    if (not_reached) {
        table.header.push_back("not reached");
        table.right_aligned.push_back(true);
    }
    for (const auto& column : report.value_columns) {
        table.header.push_back(column);
        table.right_aligned.push_back(true);
        if (options.show_dense) {
            table.header.push_back("dense " + column);
            table.right_aligned.push_back(true);
        }
    }
    for (const auto& group : report.groups) {
        std::vector<std::string> line;
        for (size_t c : visible) line.push_back(group.labels[c]);
        line.push_back(std::to_string(group.seeds));
        line.push_back(std::to_string(group.failed));
        if (not_reached) line.push_back(std::to_string(group.not_reached));
        for (size_t v = 0; v < report.value_columns.size(); ++v) {
            std::string text = statistic_text(group.values[v], options.digits, plus_minus, false);
            if (options.bold_best && group.best[v]) text = bold.open + text + bold.close;
            line.push_back(std::move(text));
            if (options.show_dense) {
                line.push_back(statistic_text(group.dense[v], options.digits, plus_minus, true));
            }
        }
        table.lines.push_back(std::move(line));
    }
    return table;
}

Table build_area_table(const Report& report, const FormatOptions& options,
                       const std::vector<size_t>& visible, const std::string& plus_minus,
                       const std::string& range_dash) {
    Table table;
    for (size_t c : visible) {
        table.header.push_back(report.curve_columns[c]);
        table.right_aligned.push_back(report.curves.front().numbers[c].has_value());
    }
    table.header.insert(table.header.end(), {"points", report.curve_x + " range"});
    table.right_aligned.insert(table.right_aligned.end(), {true, true});
    for (const auto& column : report.value_columns) {
        table.header.push_back(column + " area / range");
        table.right_aligned.push_back(true);
    }
    for (const auto& curve : report.curves) {
        std::vector<std::string> line;
        for (size_t c : visible) line.push_back(curve.labels[c]);
        const Area& first = curve.areas.front();
        line.push_back(std::to_string(first.points));
        line.push_back(number_text(first.from) + range_dash + number_text(first.to));
        for (const auto& area : curve.areas) {
            line.push_back(area_text(area, options.digits, plus_minus));
        }
        table.lines.push_back(std::move(line));
    }
    return table;
}

size_t display_width(const std::string& text) {
    // Counts characters, not bytes, so "±" does not misalign the columns.
    size_t n = 0;
    for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string markdown_table(const Table& table) {
    std::vector<size_t> widths(table.header.size(), 3);
    for (size_t c = 0; c < table.header.size(); ++c) {
        widths[c] = std::max(widths[c], display_width(table.header[c]));
        for (const auto& line : table.lines) {
            widths[c] = std::max(widths[c], display_width(line[c]));
        }
    }
    auto cell = [&](const std::string& text, size_t c) {
        std::string padding(widths[c] - display_width(text), ' ');
        return table.right_aligned[c] ? padding + text : text + padding;
    };

    std::string out = "|";
    for (size_t c = 0; c < table.header.size(); ++c) out += " " + cell(table.header[c], c) + " |";
    out += "\n|";
    for (size_t c = 0; c < table.header.size(); ++c) {
        out += " " + std::string(widths[c] - 1, '-') + (table.right_aligned[c] ? ":" : "-") + " |";
    }
    out += "\n";
    for (const auto& line : table.lines) {
        out += "|";
        for (size_t c = 0; c < line.size(); ++c) out += " " + cell(line[c], c) + " |";
        out += "\n";
    }
    return out;
}

std::string join_columns(const std::vector<std::string>& columns) {
    std::string out;
    for (size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) out += i + 1 == columns.size() ? " and " : ", ";
        out += columns[i];
    }
    return out;
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string csv_number(double value) { return std::isfinite(value) ? number_text(value) : ""; }

void append_statistic_csv(std::vector<std::string>& line, const Statistic& statistic,
                          bool with_undefined) {
    line.push_back(statistic.count > 0 ? csv_number(statistic.mean) : "");
    line.push_back(statistic.std_dev ? csv_number(*statistic.std_dev) : "");
    line.push_back(std::to_string(statistic.count));
    if (with_undefined) line.push_back(std::to_string(statistic.undefined));
}

std::string csv_lines(const std::vector<std::vector<std::string>>& lines) {
    std::string out;
    for (const auto& line : lines) {
        for (size_t i = 0; i < line.size(); ++i) {
            if (i > 0) out += ",";
            out += csv_field(line[i]);
        }
        out += "\n";
    }
    return out;
}

std::string latex_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '\\': out += "\\textbackslash{}"; break;
        case '~': out += "\\textasciitilde{}"; break;
        case '^': out += "\\textasciicircum{}"; break;
        case '&': case '%': case '$': case '#': case '_': case '{': case '}':
            out += '\\';
            out += c;
            break;
        default: out += c;
        }
    }
    return out;
}

std::string latex_table(const Table& table, const std::string& comment) {
    std::string spec;
    for (bool right : table.right_aligned) spec += right ? "r" : "l";
    std::string out = "% " + comment + "\n% Needs \\usepackage{booktabs}.\n";
    out += "\\begin{tabular}{" + spec + "}\n\\toprule\n";
    auto add_line = [&](const std::vector<std::string>& line, bool escape) {
        for (size_t c = 0; c < line.size(); ++c) {
            if (c > 0) out += " & ";
            out += escape ? latex_escape(line[c]) : line[c];
        }
        out += " \\\\\n";
    };
    add_line(table.header, true);
    out += "\\midrule\n";
    for (const auto& line : table.lines) add_line(line, false);
    out += "\\bottomrule\n\\end{tabular}\n";
    return out;
}

/// Escapes the label columns of a table whose value cells already hold LaTeX.
Table escape_labels(Table table, size_t label_count) {
    for (auto& line : table.lines) {
        for (size_t c = 0; c < label_count; ++c) line[c] = latex_escape(line[c]);
    }
    return table;
}

}  // namespace

std::string to_markdown(const Report& report, const FormatOptions& options) {
    std::string out;
    out += "Metrics of the " + report.split + " split from " +
           std::to_string(report.pruned_rows + report.dense_rows) + " rows: " +
           std::to_string(report.pruned_rows) + " pruned, " + std::to_string(report.dense_rows) +
           " dense, " + std::to_string(report.failed_rows) + " failed";
    if (report.filtered_out > 0) {
        out += "; " + std::to_string(report.filtered_out) + " rows left out by --where " +
               join(report.filter_texts);
    }
    out += ".\n";
    if (report.groups.empty()) return out + "\nNo pruned rows to report.\n";

    auto labels = group_labels(report);
    auto visible = varying_columns(labels, report.group_columns.size());
    std::string fixed = fixed_columns_text(report.group_columns, labels.front(), visible);
    out += "\nGrouped by " + join_columns(report.group_columns) + ". ";
    if (!fixed.empty()) out += "Same in every line: " + fixed + ". ";
    out += "Cells show the mean ± sample standard deviation " + spread_text(report);
    if (options.show_dense) out += "; a dense column shows the dense models the rows started from";
    if (options.bold_best) {
        out += "; bold marks the best value among lines that differ only in " +
               report.compare_column;
    }
    out += ".\n\n" + markdown_table(build_group_table(report, options, visible, " ± ",
                                                      {"**", "**"}));

    if (!report.curve_x.empty() && !report.curves.empty()) {
        auto curve_text = curve_labels(report);
        auto curve_shown = varying_columns(curve_text, report.curve_columns.size());
        out += "\nArea under each value-versus-" + report.curve_x +
               " curve, divided by the width of the range, so it is the mean height of the "
               "curve over the range. Trapezoidal rule over each seed's points";
        if (report.curve_from_dense) {
            out += ", starting at " + report.curve_x + " 0 with the dense model";
        }
        out += ", then mean ± sample standard deviation over seeds; a seed without a value at "
               "some point is left out.\n\n";
        out += markdown_table(build_area_table(report, options, curve_shown, " ± ", " to "));
    }
    for (const auto& note : report.notes) out += "\nNote: " + note + ".\n";
    return out;
}

std::string groups_csv(const Report& report) {
    std::vector<std::vector<std::string>> lines;
    std::vector<std::string> header = report.group_columns;
    header.insert(header.end(), {"rows", "seeds", "failed", "not_reached"});
    for (const auto& column : report.value_columns) {
        for (const char* suffix : {"_mean", "_std", "_count", "_undefined", "_dense_mean",
                                   "_dense_std", "_dense_count"}) {
            header.push_back(column + suffix);
        }
    }
    lines.push_back(header);
    for (const auto& group : report.groups) {
        std::vector<std::string> line;
        for (size_t c = 0; c < group.labels.size(); ++c) {
            line.push_back(group.numbers[c] ? number_text(*group.numbers[c]) : group.labels[c]);
        }
        for (size_t count : {group.rows, group.seeds, group.failed, group.not_reached}) {
            line.push_back(std::to_string(count));
        }
        for (size_t v = 0; v < report.value_columns.size(); ++v) {
            append_statistic_csv(line, group.values[v], true);
            append_statistic_csv(line, group.dense[v], false);
        }
        lines.push_back(std::move(line));
    }
    return csv_lines(lines);
}

std::string areas_csv(const Report& report) {
    if (report.curve_x.empty()) return "";
    std::vector<std::vector<std::string>> lines;
    std::vector<std::string> header = report.curve_columns;
    header.insert(header.end(), {"points", "from", "to"});
    for (const auto& column : report.value_columns) {
        for (const char* suffix : {"_area_mean", "_area_std", "_normalized_mean",
                                   "_normalized_std", "_seeds", "_incomplete_seeds"}) {
            header.push_back(column + suffix);
        }
    }
    lines.push_back(header);
    for (const auto& curve : report.curves) {
        std::vector<std::string> line;
        for (size_t c = 0; c < curve.labels.size(); ++c) {
            line.push_back(curve.numbers[c] ? number_text(*curve.numbers[c]) : curve.labels[c]);
        }
        const Area& first = curve.areas.front();
        line.insert(line.end(), {std::to_string(first.points), number_text(first.from),
                                 number_text(first.to)});
        for (const auto& area : curve.areas) {
            line.push_back(area.area.count > 0 ? csv_number(area.area.mean) : "");
            line.push_back(area.area.std_dev ? csv_number(*area.area.std_dev) : "");
            line.push_back(area.normalized.count > 0 ? csv_number(area.normalized.mean) : "");
            line.push_back(area.normalized.std_dev ? csv_number(*area.normalized.std_dev) : "");
            line.push_back(std::to_string(area.area.count));
            line.push_back(std::to_string(area.incomplete_seeds));
        }
        lines.push_back(std::move(line));
    }
    return csv_lines(lines);
}

std::string groups_latex(const Report& report, const FormatOptions& options) {
    if (report.groups.empty()) return "";
    auto labels = group_labels(report);
    auto visible = varying_columns(labels, report.group_columns.size());
    std::string fixed = fixed_columns_text(report.group_columns, labels.front(), visible);
    std::string comment =
        report.split + " split, mean $\\pm$ sample standard deviation " + spread_text(report);
    if (!fixed.empty()) comment += "; same in every line: " + fixed;
    Table table = build_group_table(report, options, visible, " $\\pm$ ", {"\\textbf{", "}"});
    return latex_table(escape_labels(std::move(table), visible.size()), comment);
}

std::string areas_latex(const Report& report, const FormatOptions& options) {
    if (report.curve_x.empty() || report.curves.empty()) return "";
    auto labels = curve_labels(report);
    auto visible = varying_columns(labels, report.curve_columns.size());
    std::string comment = "area under each value-versus-" + report.curve_x +
                          " curve divided by the range width (trapezoidal rule per seed)";
    Table table = build_area_table(report, options, visible, " $\\pm$ ", "--");
    return latex_table(escape_labels(std::move(table), visible.size()), comment);
}

}  // namespace recprune::report
