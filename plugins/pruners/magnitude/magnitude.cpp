// The magnitude pruner. Unstructured: the score of a weight is |w| (Han et al., "Learning both
// Weights and Connections for Efficient Neural Networks", NeurIPS 2015, section 3: weights
// below a threshold are removed). Structured: the score of a unit is the L1 or L2 norm of every
// weight it couples (L1 is Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017,
// section 3.1, applied to neurons, embedding rows, embedding dimensions and fields).
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <cmath>
#include <span>
#include <string>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "weight",
    "enum": ["weight", "neuron", "embedding_row", "embedding_dim", "field"],
    "help": "Units to prune: single weights (score |w|), hidden neurons, embedding rows, embedding dimensions or whole input fields (score: norm of the weights the unit couples)"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all units together; per_tensor makes each tensor (neuron: each layer, embedding_row: each field) reach the target on its own"},
  "norm": {"type": "string", "default": "l2", "enum": ["l1", "l2"],
    "help": "Norm of a structured unit's weights: l1 = sum of |w|, l2 = square root of the sum of w^2; ignored for granularity weight"},
  "normalize_by_size": {"type": "boolean", "default": false,
    "help": "Divide a structured unit's norm by its number of weights (l1) or by its square root (l2), so units of different sizes, such as fields with large and small vocabularies, compare by their typical weight; ignored for granularity weight"}
}})json";

/// Scores units by weight magnitude: |w| for single weights, the L1 or L2 norm of the coupled
/// weights for structured units. Pruned weights are already zero after the host applied the
/// masks, so a partly pruned unit's norm counts only what is left.
class MagnitudePruner : public recprune::Pruner {
public:
    MagnitudePruner(const recprune::Host& /*host*/, const json& params, uint64_t seed)
        : granularity_(parse_granularity(params.value("granularity", "weight"))),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "global"))),
          l1_(parse_norm(params.value("norm", "l2"))),
          normalize_by_size_(params.value("normalize_by_size", false)) {
        (void)seed;
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        auto tensors = context.tensors();
        for (const Block& block : parse_blocks(context.units())) {
            for (uint64_t unit = 0; unit < block.count; ++unit) {
                scores[block.offset + unit] = score_unit(tensors, block, unit);
            }
        }
        check_scores_finite(scores, "magnitude");
    }

private:
    static bool parse_norm(const std::string& text) {
        if (text == "l1") return true;
        if (text == "l2") return false;
        throw recprune::InvalidArgument("invalid parameter: norm: \"" + text +
                                        "\" is not one of l1, l2; pick one of these");
    }

    double score_unit(std::span<const recprune_tensor_t> tensors, const Block& block,
                      uint64_t unit) const {
        if (granularity_ == RECPRUNE_GRANULARITY_WEIGHT) {
            const Slice& slice = block.slices.front();
            return std::fabs(tensors[slice.tensor].data[slice.start + unit * slice.step]);
        }

        double sum = 0.0;
        uint64_t element_count = 0;
        for_each_unit_element(tensors, block, unit, [&](uint32_t tensor, uint64_t element) {
            double value = tensors[tensor].data[element];
            sum += l1_ ? std::fabs(value) : value * value;
            ++element_count;
        });
        double norm = l1_ ? sum : std::sqrt(sum);
        if (normalize_by_size_ && element_count > 0) {
            double size = static_cast<double>(element_count);
            norm /= l1_ ? size : std::sqrt(size);
        }
        return norm;
    }

    recprune_granularity_t granularity_;
    bool per_tensor_;
    bool l1_;
    bool normalize_by_size_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(MagnitudePruner, "magnitude", "1.0.0",
                         "Magnitude pruning: |w| per weight, or the L1/L2 norm of a structured unit",
                         kSchema)
