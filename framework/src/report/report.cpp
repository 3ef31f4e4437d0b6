#include "report/report.hpp"

#include "core/errors.hpp"
#include "core/join.hpp"
#include "core/json_io.hpp"
#include "grid/grid.hpp"
#include "report/columns.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

namespace recprune::report {
namespace {

using Rows = std::vector<const boost::json::object*>;

std::string text_at(const boost::json::object& row, const char* key) {
    const auto* value = row.if_contains(key);
    if (value == nullptr) return "";
    return value->is_string() ? std::string(value->as_string()) : json_io::serialize(*value);
}

bool is_failed(const boost::json::object& row) {
    std::string status = text_at(row, "status");
    return status != "ok" && status != "target_not_reached";
}

bool matches(const KeyValue& key, const std::string& text) {
    if (key.label == text || key.identity == text) return true;
    // "magnitude" selects "magnitude(granularity=neuron)" and every other magnitude variant.
    if (key.label.size() > text.size() && key.label.compare(0, text.size(), text) == 0 &&
        key.label[text.size()] == '(') {
        return true;
    }
    if (key.number) {
        char* end = nullptr;
        double number = std::strtod(text.c_str(), &end);
        if (end != text.c_str() && *end == '\0' && number == *key.number) return true;
    }
    return false;
}

Rows apply_filters(const Rows& rows, const ReportOptions& options) {
    Rows selected = rows;
    for (const auto& [column, text] : options.filters) {
        auto keys = read_key_column(selected, column);
        Rows next;
        for (size_t i = 0; i < selected.size(); ++i) {
            if (matches(keys[i], text)) next.push_back(selected[i]);
        }
        selected = std::move(next);
    }
    return selected;
}

/// Lists the metric names of `split` in order of first appearance.
std::vector<std::string> metrics_found(const Rows& rows, const std::string& split) {
    std::vector<std::string> names;
    for (const auto* row : rows) {
        const auto* part = find_path(*row, "metrics." + split);
        if (part == nullptr || !part->is_object()) continue;
        for (const auto& [name, value] : part->as_object()) {
            if (std::find(names.begin(), names.end(), std::string(name)) == names.end()) {
                names.emplace_back(name);
            }
        }
    }
    return names;
}

/// Returns true when some row has a value at `column` (a row key or dotted path).
bool column_in_rows(const Rows& rows, const std::string& column) {
    return std::any_of(rows.begin(), rows.end(), [&](const auto* row) {
        return find_path(*row, canonical_column(column)) != nullptr;
    });
}

/// Throws ConfigError for a group, filter or value column that no row has. Such a column is
/// most often a typo, and the report would otherwise print one empty or "n/a" group.
void check_columns(const Rows& rows, const ReportOptions& options) {
    if (rows.empty()) return;
    const std::string row_keys =
        "give a row key such as dataset, model, pruner, schedule, target_sparsity or seed, or a "
        "dotted path such as pruner.params.granularity";
    for (const auto& column : options.group_by) {
        if (!column_in_rows(rows, column)) {
            throw ConfigError("invalid option: --group-by: \"" + column + "\" is in no row; " +
                              row_keys);
        }
    }
    for (const auto& [column, text] : options.filters) {
        if (!column_in_rows(rows, column)) {
            throw ConfigError("invalid option: --where: \"" + column + "=" + text +
                              "\": \"" + column + "\" is in no row; " + row_keys);
        }
    }
    const std::vector<std::string> metrics = metrics_found(rows, options.split);
    for (const auto& column : options.values) {
        const bool metric = is_metric_column(column);
        const bool found = metric ? std::find(metrics.begin(), metrics.end(), column) !=
                                        metrics.end()
                                  : column_in_rows(rows, column);
        if (found) continue;
        if (metric) {
            throw ConfigError("invalid option: --metric: \"" + column + "\" is not a " +
                              options.split + " metric of any row; the rows have " +
                              join(metrics) + "; pick one of those or give a dotted path");
        }
        throw ConfigError("invalid option: --metric: \"" + column + "\" is in no row; give a "
                          "metric name (" + join(metrics) + ") or a dotted path to a number");
    }
}

/// Ranks the identities of one column: numerically when every value is a number, else in
/// order of first appearance (which follows the grid's order of datasets, models, pruners).
std::map<std::string, size_t> rank_identities(const std::vector<KeyValue>& keys) {
    bool numeric = std::all_of(keys.begin(), keys.end(), [](const KeyValue& key) {
        return key.number.has_value() || key.identity == "null";
    });
    std::vector<const KeyValue*> order;
    std::set<std::string> seen;
    for (const auto& key : keys) {
        if (seen.insert(key.identity).second) order.push_back(&key);
    }
    if (numeric) {
        std::stable_sort(order.begin(), order.end(), [](const KeyValue* a, const KeyValue* b) {
            return a->number.value_or(-INFINITY) < b->number.value_or(-INFINITY);
        });
    }
    std::map<std::string, size_t> rank;
    for (size_t i = 0; i < order.size(); ++i) rank[order[i]->identity] = i;
    return rank;
}

/// Finds the dense baseline of a pruned row through its group id, which is the cell id of the
/// group's dense row. When that row is not in the input (a partial results.jsonl), a pruned row
/// of the group serves instead, because it carries its dense model's metrics in "dense_metrics".
class DenseIndex {
public:
    DenseIndex(const Rows& dense_rows, const Rows& pruned_rows) {
        for (const auto* row : dense_rows) dense_[text_at(*row, "cell_id")] = row;
        for (const auto* row : pruned_rows) {
            if (row->contains("dense_metrics")) carriers_.emplace(text_at(*row, "group_id"), row);
        }
    }

    /// Adds the baseline value of `group_id` to `values` or counts it as failed or undefined.
    /// Returns false when the group has no baseline in the input.
    bool add(const std::string& group_id, const std::string& column, const std::string& split,
             std::vector<double>& values, Statistic& statistic) const {
        std::optional<double> value;
        if (auto dense = dense_.find(group_id); dense != dense_.end()) {
            if (is_failed(*dense->second)) {
                ++statistic.failed;
                return true;
            }
            value = read_value(*dense->second, column, split);
        } else if (auto carrier = carriers_.find(group_id);
                   carrier != carriers_.end() && is_metric_column(column)) {
            const auto* found =
                find_path(*carrier->second, "dense_metrics." + split + "." + column + ".value");
            if (found != nullptr && found->is_number()) value = json_io::as_double(*found);
        } else {
            return false;
        }
        if (value) {
            values.push_back(*value);
        } else {
            ++statistic.undefined;
        }
        return true;
    }

private:
    std::map<std::string, const boost::json::object*> dense_;
    std::map<std::string, const boost::json::object*> carriers_;
};

Statistic summarize_rows(const Rows& rows, const std::string& column, const std::string& split) {
    std::vector<double> values;
    size_t failed = 0;
    size_t undefined = 0;
    for (const auto* row : rows) {
        if (is_failed(*row)) {
            ++failed;
            continue;
        }
        if (auto value = read_value(*row, column, split)) {
            values.push_back(*value);
        } else {
            ++undefined;
        }
    }
    Statistic statistic = summarize(values);
    statistic.failed = failed;
    statistic.undefined = undefined;
    return statistic;
}

Statistic summarize_dense(const Rows& rows, const DenseIndex& dense, const std::string& column,
                          const std::string& split) {
    std::set<std::string> group_ids;
    for (const auto* row : rows) group_ids.insert(text_at(*row, "group_id"));
    std::vector<double> values;
    Statistic counts;
    for (const auto& group_id : group_ids) dense.add(group_id, column, split, values, counts);
    Statistic statistic = summarize(values);
    statistic.failed = counts.failed;
    statistic.undefined = counts.undefined;
    return statistic;
}

/// Returns the trapezoidal area under the points, which must be sorted by x.
double trapezoid(const std::vector<std::pair<double, double>>& points) {
    double area = 0.0;
    for (size_t i = 1; i < points.size(); ++i) {
        area += (points[i].first - points[i - 1].first) *
                (points[i].second + points[i - 1].second) / 2.0;
    }
    return area;
}

/// Computes the area of one curve for one value column. `xs` are the curve's x values: every x
/// that some row of the curve has, failed rows included. A seed counts only when it has a value
/// at each of them, because leaving a point out would change the range it covers.
Area curve_area(const Rows& rows, const std::vector<double>& row_x, const std::set<double>& xs,
                const DenseIndex& dense, const std::string& column, const std::string& split,
                bool from_dense) {
    // Per seed: the values at each x (several rows of a seed and x are averaged).
    std::map<std::string, std::map<double, std::vector<double>>> by_seed;
    std::map<std::string, std::string> group_of_seed;
    for (size_t i = 0; i < rows.size(); ++i) {
        std::string seed = text_at(*rows[i], "seed");
        auto& at_x = by_seed[seed];
        group_of_seed.emplace(seed, text_at(*rows[i], "group_id"));
        if (is_failed(*rows[i])) continue;
        if (auto value = read_value(*rows[i], column, split)) at_x[row_x[i]].push_back(*value);
    }

    // A grid that already has x = 0 needs no dense point in front of it.
    from_dense = from_dense && *xs.begin() > 0.0;
    Area area;
    area.points = xs.size() + (from_dense ? 1 : 0);
    area.from = from_dense ? 0.0 : *xs.begin();
    area.to = *xs.rbegin();
    if (area.points < 2) return area;
    std::vector<double> areas;
    std::vector<double> normalized;
    for (const auto& [seed, at_x] : by_seed) {
        std::vector<std::pair<double, double>> points;
        if (from_dense) {
            std::vector<double> baseline;
            Statistic ignored;
            dense.add(group_of_seed.at(seed), column, split, baseline, ignored);
            if (!baseline.empty()) points.emplace_back(0.0, baseline.front());
        }
        for (double x : xs) {
            auto found = at_x.find(x);
            if (found == at_x.end() || found->second.empty()) break;
            double sum = 0.0;
            for (double v : found->second) sum += v;
            points.emplace_back(x, sum / static_cast<double>(found->second.size()));
        }
        if (points.size() != area.points) {
            ++area.incomplete_seeds;
            continue;
        }
        areas.push_back(trapezoid(points));
        normalized.push_back(areas.back() / (area.to - area.from));
    }
    area.area = summarize(areas);
    area.normalized = summarize(normalized);
    return area;
}

void add_curves(Report& report, const Rows& rows, const std::vector<std::vector<KeyValue>>& keys,
                const std::vector<std::map<std::string, size_t>>& ranks, const DenseIndex& dense) {
    auto x_column = std::find(report.group_columns.begin(), report.group_columns.end(),
                              report.curve_x);
    if (x_column == report.group_columns.end()) {
        report.notes.push_back("no area table: the curve column " + report.curve_x +
                               " is not among the group columns");
        report.curve_x.clear();
        return;
    }
    const size_t x_index = static_cast<size_t>(x_column - report.group_columns.begin());
    std::vector<double> row_x(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        if (keys[x_index][i].identity == "null") {
            throw DataError("malformed results: row " + text_at(*rows[i], "cell_id") +
                            " has no " + report.curve_x + "; remove the row, or give --curve-x "
                            "a column every row has");
        }
        if (!keys[x_index][i].number) {
            throw ConfigError("invalid option: --curve-x " + report.curve_x + ": row " +
                              text_at(*rows[i], "cell_id") + " has " + keys[x_index][i].label +
                              ", not a number; give a numeric column such as target_sparsity");
        }
        row_x[i] = *keys[x_index][i].number;
    }

    // One curve per combination of the other group columns, in table order.
    std::map<std::vector<size_t>, std::vector<size_t>> curves;
    for (size_t i = 0; i < rows.size(); ++i) {
        std::vector<size_t> rank;
        for (size_t c = 0; c < keys.size(); ++c) {
            if (c != x_index) rank.push_back(ranks[c].at(keys[c][i].identity));
        }
        curves[rank].push_back(i);
    }
    for (size_t c = 0; c < report.group_columns.size(); ++c) {
        if (c != x_index) report.curve_columns.push_back(report.group_columns[c]);
    }
    for (const auto& [rank, members] : curves) {
        CurveRow curve;
        Rows curve_rows;
        std::vector<double> curve_x;
        std::set<double> xs;
        for (size_t i : members) {
            curve_rows.push_back(rows[i]);
            curve_x.push_back(row_x[i]);
            xs.insert(row_x[i]);
        }
        for (size_t c = 0; c < keys.size(); ++c) {
            if (c == x_index) continue;
            curve.labels.push_back(keys[c][members.front()].label);
            curve.numbers.push_back(keys[c][members.front()].number);
        }
        for (const auto& column : report.value_columns) {
            curve.areas.push_back(curve_area(curve_rows, curve_x, xs, dense, column, report.split,
                                             report.curve_from_dense));
        }
        report.curves.push_back(std::move(curve));
    }

    // A table of single-point curves, as after --where sparsity=0.9, would hold only "n/a".
    bool any_area = std::any_of(report.curves.begin(), report.curves.end(), [](const auto& c) {
        return !c.areas.empty() && c.areas.front().points >= 2;
    });
    if (!any_area) {
        report.notes.push_back("no area table: every curve has a single " + report.curve_x +
                               " point");
        report.curves.clear();
        report.curve_columns.clear();
        report.curve_x.clear();
    }
}

/// Sets GroupRow::best: per value column, the best mean among the lines that share every group
/// column except the compare column.
void mark_best(Report& report, const std::string& compare_column) {
    for (auto& group : report.groups) group.best.assign(report.value_columns.size(), false);
    auto compare = std::find(report.group_columns.begin(), report.group_columns.end(),
                             canonical_column(compare_column));
    if (compare == report.group_columns.end()) return;
    const size_t compare_index = static_cast<size_t>(compare - report.group_columns.begin());

    // Lines that differ only in the compare column form one contest.
    std::map<std::vector<std::string>, std::vector<size_t>> contests;
    for (size_t g = 0; g < report.groups.size(); ++g) {
        std::vector<std::string> key = report.groups[g].labels;
        key.erase(key.begin() + static_cast<long>(compare_index));
        contests[key].push_back(g);
    }
    for (size_t v = 0; v < report.value_columns.size(); ++v) {
        std::optional<bool> lower = lower_is_better(report.value_columns[v]);
        if (!lower) continue;
        for (const auto& [key, members] : contests) {
            if (members.size() < 2) continue;
            std::optional<double> best;
            for (size_t g : members) {
                const Statistic& s = report.groups[g].values[v];
                if (s.count == 0) continue;
                if (!best || (*lower ? s.mean < *best : s.mean > *best)) best = s.mean;
            }
            for (size_t g : members) {
                const Statistic& s = report.groups[g].values[v];
                report.groups[g].best[v] = best && s.count > 0 && s.mean == *best;
            }
        }
    }
}

}  // namespace

std::optional<bool> lower_is_better(const std::string& column) {
    if (!is_metric_column(column)) return std::nullopt;
    return !grid::higher_is_better(column);
}

Statistic summarize(const std::vector<double>& values) {
    Statistic statistic;
    statistic.count = values.size();
    if (values.empty()) return statistic;
    double sum = 0.0;
    for (double v : values) sum += v;
    statistic.mean = sum / static_cast<double>(values.size());
    if (values.size() >= 2) {
        double squares = 0.0;
        for (double v : values) squares += (v - statistic.mean) * (v - statistic.mean);
        statistic.std_dev = std::sqrt(squares / static_cast<double>(values.size() - 1));
    }
    return statistic;
}

Report build_report(const std::vector<boost::json::object>& rows, const ReportOptions& options) {
    if (options.group_by.empty()) {
        throw ConfigError("invalid option: --group-by: no columns given; give columns such as "
                          "pruner,target_sparsity");
    }
    Report report;
    report.split = options.split;
    report.curve_x = canonical_column(options.curve_x);
    report.curve_from_dense = options.curve_from_dense;
    for (const auto& column : options.group_by) {
        report.group_columns.push_back(canonical_column(column));
    }
    report.input_rows = rows.size();

    // 1. Dense rows (baselines) apart from pruned rows (groups). Filters apply to the pruned
    // rows only: a dense row has no pruner and sparsity 0, so "--where pruner=random" would
    // otherwise drop the baselines of the rows it keeps.
    Rows all_pruned;
    Rows dense;
    for (const auto& row : rows) {
        (text_at(row, "kind") == "dense" ? dense : all_pruned).push_back(&row);
    }
    // Checked before the columns, because a pruned column such as the default "pruner" is in
    // no dense row and its message would blame an option the user may not have given.
    if (all_pruned.empty()) {
        const std::string dense_count = std::to_string(dense.size()) +
                                        (dense.size() == 1 ? " dense row" : " dense rows");
        throw ConfigError("nothing to report: the input contains no pruned row, only " +
                          dense_count + "; run a grid with pruners and "
                          "sparsities first, because the report groups pruned rows and shows "
                          "dense rows only as their baselines");
    }
    Rows all_rows = all_pruned;
    all_rows.insert(all_rows.end(), dense.begin(), dense.end());
    check_columns(all_rows, options);
    for (const auto& [column, text] : options.filters) {
        report.filter_texts.push_back(column + "=" + text);
    }
    Rows pruned = apply_filters(all_pruned, options);
    report.filtered_out = all_pruned.size() - pruned.size();
    DenseIndex dense_index(dense, pruned);

    // The dense rows counted are those some reported row started from.
    std::set<std::string> group_ids;
    for (const auto* row : pruned) group_ids.insert(text_at(*row, "group_id"));
    Rows linked_dense;
    for (const auto* row : dense) {
        if (group_ids.count(text_at(*row, "cell_id")) > 0) linked_dense.push_back(row);
    }
    report.pruned_rows = pruned.size();
    report.dense_rows = linked_dense.size();
    for (const Rows* part : {&pruned, &linked_dense}) {
        for (const auto* row : *part) report.failed_rows += is_failed(*row) ? 1 : 0;
    }
    Rows reported = pruned;
    reported.insert(reported.end(), linked_dense.begin(), linked_dense.end());
    report.value_columns = options.values.empty() ? metrics_found(reported, options.split)
                                                  : options.values;

    // 2. Group the pruned rows by the identities of their group columns.
    std::vector<std::vector<KeyValue>> keys;
    std::vector<std::map<std::string, size_t>> ranks;
    for (const auto& column : report.group_columns) {
        keys.push_back(read_key_column(pruned, column));
        ranks.push_back(rank_identities(keys.back()));
    }
    std::map<std::vector<size_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < pruned.size(); ++i) {
        std::vector<size_t> rank;
        for (size_t c = 0; c < keys.size(); ++c) rank.push_back(ranks[c].at(keys[c][i].identity));
        groups[rank].push_back(i);
    }

    // 3. Statistics per group and value column.
    bool mixed_seeds = false;
    for (const auto& [rank, members] : groups) {
        GroupRow group;
        Rows group_rows;
        std::set<std::string> seeds;
        for (size_t i : members) {
            group_rows.push_back(pruned[i]);
            seeds.insert(text_at(*pruned[i], "seed"));
            group.failed += is_failed(*pruned[i]) ? 1 : 0;
            group.not_reached += text_at(*pruned[i], "status") == "target_not_reached" ? 1 : 0;
        }
        for (size_t c = 0; c < keys.size(); ++c) {
            group.labels.push_back(keys[c][members.front()].label);
            group.numbers.push_back(keys[c][members.front()].number);
        }
        group.rows = members.size();
        group.seeds = seeds.size();
        mixed_seeds = mixed_seeds || group.rows != group.seeds;
        for (const auto& column : report.value_columns) {
            group.values.push_back(summarize_rows(group_rows, column, report.split));
            group.dense.push_back(summarize_dense(group_rows, dense_index, column, report.split));
        }
        report.groups.push_back(std::move(group));
    }
    report.statistics_over_rows = mixed_seeds;
    if (mixed_seeds) {
        report.notes.push_back("some groups hold several rows of one seed, so a column left out "
                               "of the grouping varies inside them; statistics are over rows");
    }

    // 4. The best line of each contest, then the curves along curve_x and their areas.
    report.compare_column = canonical_column(options.compare_column);
    mark_best(report, report.compare_column);
    if (!pruned.empty()) add_curves(report, pruned, keys, ranks, dense_index);
    return report;
}

}  // namespace recprune::report
