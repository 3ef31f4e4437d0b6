// The mutual_information pruner: filter feature selection by the mutual information between
// each field and the label, estimated on the training data,
//     I(X; Y) = sum over x, y of p(x, y) ln(p(x, y) / (p(x) p(y)))   (in nats),
// as in Battiti, "Using Mutual Information for Selecting Features in Supervised Neural Net
// Learning", IEEE Transactions on Neural Networks 5(4), 1994. The plug-in estimate grows with the
// number of distinct values even for a field unrelated to the label, which favours id-like
// fields. So by default each entropy gets Miller's bias correction (m - 1) / (2N), with m the
// number of non-empty cells (Miller, "Note on the bias of information estimates", 1955).
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "label_bins": {"type": "integer", "default": 16, "minimum": 2,
    "help": "Maximum number of label classes; a label with more distinct values (a rating) is cut into this many equal-frequency bins"},
  "correction": {"type": "string", "default": "miller_madow", "enum": ["none", "miller_madow"],
    "help": "Bias correction of the entropy estimates: miller_madow adds (m - 1) / (2N) to each entropy, none uses the plug-in estimate"},
  "max_rows": {"type": "integer", "default": 0, "minimum": 0,
    "help": "Use at most this many training rows (the first ones); 0 uses all"}
}})json";

/// Returns a class index per row: the distinct label values, or equal-frequency bins of them
/// when there are more than `max_classes`.
std::vector<uint32_t> label_classes(const float* labels, uint64_t rows, uint32_t max_classes,
                                    uint32_t& class_count) {
    std::vector<float> sorted(labels, labels + rows);
    std::sort(sorted.begin(), sorted.end());
    std::vector<float> distinct = sorted;
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());

    // Upper edges: each distinct value, or the values at equal-frequency quantiles.
    std::vector<float> edges;
    if (distinct.size() <= max_classes) {
        edges = distinct;
    } else {
        for (uint32_t bin = 1; bin <= max_classes; ++bin) {
            uint64_t position = std::min<uint64_t>(rows - 1, bin * rows / max_classes);
            if (bin == max_classes) position = rows - 1;
            if (edges.empty() || sorted[position] > edges.back()) edges.push_back(sorted[position]);
        }
    }
    class_count = static_cast<uint32_t>(edges.size());

    std::vector<uint32_t> classes(rows);
    for (uint64_t row = 0; row < rows; ++row) {
        auto edge = std::lower_bound(edges.begin(), edges.end(), labels[row]);
        classes[row] = static_cast<uint32_t>(edge - edges.begin());
    }
    return classes;
}

/// Returns the entropy (nats) of the weights in `cells` summing to `total`, with Miller's
/// correction when `corrected`.
double entropy(const std::vector<double>& cells, double total, bool corrected) {
    double value = 0.0;
    uint64_t non_empty = 0;
    for (double weight : cells) {
        if (weight <= 0.0) continue;
        double p = weight / total;
        value -= p * std::log(p);
        ++non_empty;
    }
    if (corrected && non_empty > 0) value += static_cast<double>(non_empty - 1) / (2.0 * total);
    return value;
}

/// Scores fields by their mutual information with the label.
class MutualInformationPruner : public recprune::Pruner {
public:
    MutualInformationPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : label_bins_(params.value("label_bins", 16u)),
          corrected_(parse_correction(params.value("correction", "miller_madow"))),
          max_rows_(params.value("max_rows", uint64_t{0})) {
        if (label_bins_ < 2) {
            throw recprune::InvalidArgument("invalid parameter: label_bins: " +
                                            std::to_string(label_bins_) +
                                            " is below 2; give at least 2");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_FIELD);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, RECPRUNE_GRANULARITY_FIELD);
        const recprune_data_view_t& data = context.train_data();
        uint64_t rows = max_rows_ == 0 ? data.row_count : std::min(max_rows_, data.row_count);
        if (rows == 0 || data.labels == nullptr) {
            throw recprune::InvalidArgument("scoring failed: mutual_information: the training data "
                                            "has no labelled rows; check the dataset split");
        }
        uint32_t class_count = 0;
        std::vector<uint32_t> classes = label_classes(data.labels, rows, label_bins_, class_count);
        for (const Block& block : parse_blocks(context.units())) {
            if (block.field >= data.field_count) {
                throw recprune::InvalidArgument(
                    "invalid prune context: field " + block.name + " has index " +
                    std::to_string(block.field) + ", the data has " +
                    std::to_string(data.field_count) + " fields; the model and data disagree");
            }
            scores[block.offset] = field_information(data, block.field, rows, classes, class_count);
        }
        check_scores_finite(scores, "mutual_information");
    }

private:
    static bool parse_correction(const std::string& text) {
        if (text == "miller_madow") return true;
        if (text == "none") return false;
        throw recprune::InvalidArgument("invalid parameter: correction: \"" + text +
                                        "\" is not one of none, miller_madow; pick one of these");
    }

    /// Returns I(X_field; Y) over the first `rows` rows. A multi-valued field spreads each row's
    /// weight 1 evenly over its values; a row without values counts as value 0.
    double field_information(const recprune_data_view_t& data, uint32_t field, uint64_t rows,
                             const std::vector<uint32_t>& classes, uint32_t class_count) const {
        const uint32_t* ids = data.ids[field];
        const uint64_t* offsets = data.offsets != nullptr ? data.offsets[field] : nullptr;
        std::unordered_map<uint64_t, double> joint;
        std::unordered_map<uint32_t, double> marginal;
        std::vector<double> label_weights(class_count, 0.0);
        auto add = [&](uint32_t value, uint32_t label, double weight) {
            joint[static_cast<uint64_t>(value) * class_count + label] += weight;
            marginal[value] += weight;
        };
        for (uint64_t row = 0; row < rows; ++row) {
            uint32_t label = classes[row];
            label_weights[label] += 1.0;
            if (offsets == nullptr) {
                add(ids[row], label, 1.0);
                continue;
            }
            uint64_t first = offsets[row];
            uint64_t end = offsets[row + 1];
            if (first == end) {
                add(0, label, 1.0);
                continue;
            }
            double weight = 1.0 / static_cast<double>(end - first);
            for (uint64_t position = first; position < end; ++position) {
                add(ids[position], label, weight);
            }
        }

        std::vector<double> joint_cells;
        std::vector<double> value_cells;
        joint_cells.reserve(joint.size());
        value_cells.reserve(marginal.size());
        for (const auto& [key, weight] : joint) joint_cells.push_back(weight);
        for (const auto& [value, weight] : marginal) value_cells.push_back(weight);
        double total = static_cast<double>(rows);
        return entropy(value_cells, total, corrected_) +
               entropy(label_weights, total, corrected_) -
               entropy(joint_cells, total, corrected_);
    }

    uint32_t label_bins_;
    bool corrected_;
    uint64_t max_rows_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(MutualInformationPruner, "mutual_information", "1.0.0",
                         "Mutual information of each field with the label: least informative first",
                         kSchema)
