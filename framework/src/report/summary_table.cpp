#include "report/summary_table.hpp"

#include "core/json_io.hpp"
#include "report/columns.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace recprune::report {
namespace {

struct Stats {
    std::vector<double> values;
    size_t undefined = 0;
    size_t failed = 0;
};

/// Returns, per row, a label of the training settings that differ between rows, such as
/// "lr=0.001" ("" when all rows train alike). A grid's training axes vary these settings, and
/// rows of two learning rates must not pool as if they were seeds.
std::vector<std::string> training_labels(const std::vector<boost::json::object>& rows) {
    std::map<std::string, std::set<std::string>> seen;
    for (const auto& row : rows) {
        const auto* training = row.if_contains("training");
        if (training == nullptr || !training->is_object()) continue;
        for (const auto& [key, value] : training->as_object()) {
            seen[std::string(key)].insert(json_io::serialize(value));
        }
    }
    std::vector<std::string> labels;
    labels.reserve(rows.size());
    for (const auto& row : rows) {
        const auto* training = row.if_contains("training");
        std::string label;
        for (const auto& [key, values] : seen) {
            if (values.size() < 2) continue;
            const boost::json::value* value =
                training != nullptr && training->is_object()
                    ? training->as_object().if_contains(key)
                    : nullptr;
            if (!label.empty()) label += ",";
            label += key + "=" + (value != nullptr ? json_io::serialize(*value) : "-");
        }
        labels.push_back(std::move(label));
    }
    return labels;
}

std::string format_stats(const Stats& stats) {
    std::string out;
    char buffer[64];
    // No row of the line has the metric (another task's metric in a mixed grid).
    if (stats.values.empty() && stats.undefined == 0 && stats.failed == 0) return "-";
    if (stats.values.empty()) {
        out = "n/a";
    } else {
        double mean = 0.0;
        for (double v : stats.values) mean += v;
        mean /= static_cast<double>(stats.values.size());
        double variance = 0.0;
        for (double v : stats.values) variance += (v - mean) * (v - mean);
        // Sample standard deviation over seeds; one seed has none.
        if (stats.values.size() > 1) {
            std::snprintf(buffer, sizeof(buffer), "%.4f ± %.4f", mean,
                          std::sqrt(variance / static_cast<double>(stats.values.size() - 1)));
        } else {
            std::snprintf(buffer, sizeof(buffer), "%.4f", mean);
        }
        out = buffer;
    }
    if (stats.undefined > 0) out += " (" + std::to_string(stats.undefined) + " undefined)";
    if (stats.failed > 0) out += " (" + std::to_string(stats.failed) + " failed)";
    return out;
}

}  // namespace

std::string summary_table(const std::vector<boost::json::object>& rows,
                          const std::vector<std::string>& metrics) {
    // Key: dataset, model, training settings, pruner, schedule, sparsity; rows of different
    // seeds share a key. The plugin columns carry the labels of `recprune report`, which add
    // the parameters that differ between entries of one name, so two `iterative` entries with
    // other steps are two lines instead of one line with twice the seeds.
    using Key =
        std::tuple<std::string, std::string, std::string, std::string, std::string, double>;
    std::map<Key, std::map<std::string, Stats>> groups;
    std::map<Key, size_t> seeds;
    // Rows that finished below their target (the stop rule or the model's limit ended them)
    // show the target in the sparsity column, so the seeds cell counts them.
    std::map<Key, size_t> not_reached;
    std::vector<const boost::json::object*> row_pointers;
    row_pointers.reserve(rows.size());
    for (const auto& row : rows) row_pointers.push_back(&row);
    const auto datasets = read_key_column(row_pointers, "dataset");
    const auto models = read_key_column(row_pointers, "model");
    const auto pruners = read_key_column(row_pointers, "pruner");
    const auto schedules = read_key_column(row_pointers, "schedule");
    const std::vector<std::string> trainings = training_labels(rows);
    const bool show_training = std::any_of(trainings.begin(), trainings.end(),
                                           [](const std::string& label) { return !label.empty(); });
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        bool dense = row.at("kind") == "dense";
        Key key{datasets[i].label,
                models[i].label,
                trainings[i],
                dense ? "(dense)" : pruners[i].label,
                dense ? "-" : schedules[i].label,
                json_io::as_double(row.at("target_sparsity"))};
        ++seeds[key];
        if (row.at("status") == "target_not_reached") ++not_reached[key];
        bool failed = row.at("status") == "failed";
        const auto* all = row.if_contains("metrics");
        const auto* test = all != nullptr && all->is_object()
                               ? all->as_object().if_contains("test")
                               : nullptr;
        for (const auto& metric : metrics) {
            Stats& stats = groups[key][metric];
            if (failed) {
                ++stats.failed;
                continue;
            }
            const auto* entry = test != nullptr && test->is_object()
                                    ? test->as_object().if_contains(metric)
                                    : nullptr;
            // A row without the metric at all belongs to a task that does not compute it.
            if (test != nullptr && entry == nullptr) continue;
            const boost::json::value* value =
                entry != nullptr && entry->is_object() ? entry->as_object().if_contains("value")
                                                       : nullptr;
            if (value != nullptr && value->is_number()) {
                stats.values.push_back(json_io::as_double(*value));
            } else {
                ++stats.undefined;
            }
        }
    }

    std::vector<std::string> header = {"dataset", "model"};
    if (show_training) header.push_back("training");
    for (const char* column : {"pruner", "schedule", "sparsity", "seeds"}) {
        header.push_back(column);
    }
    for (const auto& metric : metrics) header.push_back("test " + metric);
    std::vector<std::vector<std::string>> table{header};
    for (const auto& [key, stats] : groups) {
        char sparsity[32];
        std::snprintf(sparsity, sizeof(sparsity), "%.3g", std::get<5>(key));
        std::string seeds_text = std::to_string(seeds.at(key));
        if (not_reached.count(key) != 0) {
            seeds_text += " (" + std::to_string(not_reached.at(key)) + " not reached)";
        }
        std::vector<std::string> line = {std::get<0>(key), std::get<1>(key)};
        if (show_training) line.push_back(std::get<2>(key));
        for (std::string cell : {std::get<3>(key), std::get<4>(key), std::string(sparsity),
                                 seeds_text}) {
            line.push_back(std::move(cell));
        }
        for (const auto& metric : metrics) line.push_back(format_stats(stats.at(metric)));
        table.push_back(line);
    }

    // Width by characters, not bytes, so "±" does not misalign the columns.
    auto width = [](const std::string& s) {
        size_t n = 0;
        for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
        return n;
    };
    std::vector<size_t> widths(header.size(), 0);
    for (const auto& line : table) {
        for (size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], width(line[c]));
    }
    std::string out;
    for (size_t r = 0; r < table.size(); ++r) {
        out += "|";
        for (size_t c = 0; c < table[r].size(); ++c) {
            out += " " + table[r][c] + std::string(widths[c] - width(table[r][c]), ' ') + " |";
        }
        out += "\n";
        if (r == 0) {
            out += "|";
            for (size_t c = 0; c < widths.size(); ++c) out += std::string(widths[c] + 2, '-') + "|";
            out += "\n";
        }
    }
    return out;
}

}  // namespace recprune::report
