// The l1_norm pruner: structured pruning of hidden neurons by the L1 norm of their weights, from
// Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017, section 3.1: a filter's score
// is s_j = sum of |w| over its kernel weights, and the filters with the smallest sums go first.
// Here a neuron plays the filter's part, and its weights are every slice the model couples to it
// (its row, its bias and the next layer's column). It is the magnitude pruner with
// granularity "neuron" and norm "l1", kept under its own name so grids can cite the method.
#include "../common/magnitude_scores.hpp"
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <span>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "neuron",
    "enum": ["neuron", "embedding_row", "embedding_dim", "field"],
    "help": "Structured units to prune; neuron is the method as published, the others apply the same L1 score to embedding rows, embedding dimensions or fields"},
  "scope": {"type": "string", "default": "per_tensor", "enum": ["global", "per_tensor"],
    "help": "per_tensor prunes the target fraction of every layer, as the method prunes layer by layer; global ranks the neurons of all layers together"},
  "normalize_by_size": {"type": "boolean", "default": false,
    "help": "Divide each unit's L1 norm by its number of weights, so units of different sizes compare by their mean |w|"}
}})json";

/// Scores structured units by the L1 norm of their weights.
class L1NormPruner : public recprune::Pruner {
public:
    L1NormPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : granularity_(parse_granularity(params.value("granularity", "neuron"))),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "per_tensor"))) {
        if (granularity_ == RECPRUNE_GRANULARITY_WEIGHT) {
            throw recprune::InvalidArgument(
                "invalid parameter: granularity: \"weight\" is not structured; use the magnitude "
                "pruner for single weights or pick neuron, embedding_row, embedding_dim, field");
        }
        options_.l1 = true;
        options_.normalize_by_size = params.value("normalize_by_size", false);
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        score_by_magnitude(context, scores, options_, "l1_norm");
    }

private:
    recprune_granularity_t granularity_;
    bool per_tensor_;
    MagnitudeOptions options_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(L1NormPruner, "l1_norm", "1.0.0",
                         "Structured L1-norm pruning of hidden neurons (Li et al., ICLR 2017)",
                         kSchema)
