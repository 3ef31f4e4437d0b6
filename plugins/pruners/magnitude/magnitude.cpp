// The magnitude pruner. Unstructured: the score of a weight is |w| (Han et al., "Learning both
// Weights and Connections for Efficient Neural Networks", NeurIPS 2015, section 3: weights
// below a threshold are removed). Structured: the score of a unit is the L1 or L2 norm of every
// weight it couples (L1 is Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017,
// section 3.1, applied to neurons, embedding rows, embedding dimensions and fields).
#include "../common/magnitude_scores.hpp"
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <span>

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
/// weights for structured units.
class MagnitudePruner : public recprune::Pruner {
public:
    MagnitudePruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : granularity_(parse_granularity(params.value("granularity", "weight"))),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "global"))) {
        options_.l1 = parse_l1_norm(params.value("norm", "l2"));
        options_.normalize_by_size = params.value("normalize_by_size", false);
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        score_by_magnitude(context, scores, options_, "magnitude");
    }

private:
    recprune_granularity_t granularity_;
    bool per_tensor_;
    MagnitudeOptions options_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(MagnitudePruner, "magnitude", "1.0.0",
                         "Magnitude pruning: |w| per weight, or the L1/L2 norm of a structured unit",
                         kSchema)
