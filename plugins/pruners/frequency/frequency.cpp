// The frequency pruner: density-based feature pruning. An embedding row (a feature value) scores
// the number of times its id occurs in the training data, so rare values are removed first and
// fall back to their field's out-of-vocabulary row. McMahan et al., "Ad Click Prediction: a View
// from the Trenches", KDD 2013, section 4.1, let a feature enter the model only once it has been
// seen n times. This pruner turns that count into a ranking, so the host can meet a target. A field scores its coverage: the share of training rows in
// which it has a known (not out-of-vocabulary) value.
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <limits>
#include <span>
#include <string>
#include <vector>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "embedding_row", "enum": ["embedding_row", "field"],
    "help": "embedding_row scores each feature value by its count in the training data; field scores each field by the share of training rows where it has a known value"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global applies one count threshold to all fields; per_tensor (embedding_row only) removes the target share of rows from every field"},
  "keep_oov_row": {"type": "boolean", "default": true,
    "help": "Give each field's out-of-vocabulary row 0 an infinite score, so the row that removed values fall back to is pruned last"}
}})json";

/// Counts every id occurrence of field `field` in the training data; ids outside the vocabulary
/// are ignored. Multi-valued fields count each value.
std::vector<double> count_ids(const recprune_data_view_t& data, uint32_t field, uint64_t rows) {
    std::vector<double> counts(rows, 0.0);
    const uint32_t* ids = data.ids[field];
    const uint64_t* offsets = data.offsets != nullptr ? data.offsets[field] : nullptr;
    uint64_t id_count = offsets != nullptr ? offsets[data.row_count] : data.row_count;
    for (uint64_t position = 0; position < id_count; ++position) {
        if (ids[position] < rows) counts[ids[position]] += 1.0;
    }
    return counts;
}

/// Returns the share of training rows in which field `field` has at least one id other than 0.
double coverage(const recprune_data_view_t& data, uint32_t field) {
    if (data.row_count == 0) return 0.0;
    const uint32_t* ids = data.ids[field];
    const uint64_t* offsets = data.offsets != nullptr ? data.offsets[field] : nullptr;
    uint64_t covered = 0;
    for (uint64_t row = 0; row < data.row_count; ++row) {
        uint64_t first = offsets != nullptr ? offsets[row] : row;
        uint64_t end = offsets != nullptr ? offsets[row + 1] : row + 1;
        for (uint64_t position = first; position < end; ++position) {
            if (ids[position] != 0) {
                ++covered;
                break;
            }
        }
    }
    return static_cast<double>(covered) / static_cast<double>(data.row_count);
}

/// Scores feature values by their training count, or fields by their coverage.
class FrequencyPruner : public recprune::Pruner {
public:
    FrequencyPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : granularity_(parse_granularity(params.value("granularity", "embedding_row"))),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "global"))),
          keep_oov_row_(params.value("keep_oov_row", true)) {
        if (granularity_ != RECPRUNE_GRANULARITY_EMBEDDING_ROW &&
            granularity_ != RECPRUNE_GRANULARITY_FIELD) {
            throw recprune::InvalidArgument(
                "invalid parameter: granularity: frequency scores embedding rows or fields only; "
                "pick embedding_row or field");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        const recprune_data_view_t& data = context.train_data();
        for (const Block& block : parse_blocks(context.units())) {
            if (block.field >= data.field_count) {
                throw recprune::InvalidArgument(
                    "invalid prune context: block " + block.name + ": field " +
                    std::to_string(block.field) + " is not below the data's field count " +
                    std::to_string(data.field_count) + "; the model and the data disagree");
            }
            if (granularity_ == RECPRUNE_GRANULARITY_FIELD) {
                scores[block.offset] = coverage(data, block.field);
                continue;
            }
            std::vector<double> counts = count_ids(data, block.field, block.count);
            if (keep_oov_row_ && !counts.empty()) {
                counts[0] = std::numeric_limits<double>::infinity();
            }
            for (uint64_t row = 0; row < block.count; ++row) scores[block.offset + row] = counts[row];
        }
    }

private:
    recprune_granularity_t granularity_;
    bool per_tensor_;
    bool keep_oov_row_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(FrequencyPruner, "frequency", "1.0.0",
                         "Density-based feature pruning: rare feature values (or sparse fields) first",
                         kSchema)
