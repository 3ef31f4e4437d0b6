// The snip pruner: connection sensitivity from Lee, Ajanthan and Torr, "SNIP: Single-shot
// Network Pruning based on Connection Sensitivity", ICLR 2019, equation 6:
//     s_j = |g_j(w; D)| / sum_k |g_k(w; D)|,  g_j = dL(c * w; D)/dc_j at c = 1 = w_j * dL/dw_j,
// over a calibration set D of `calibration_batches` training batches. The normalising sum does
// not change the ranking and is left out. Structured units use the gate on the whole unit,
// |sum over the unit's weights of w * dL/dw|.
#include "../common/gradient_pruner.hpp"

#include "recprune/sdk.hpp"

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "weight",
    "enum": ["weight", "neuron", "embedding_row", "embedding_dim", "field"],
    "help": "Units to prune: single weights as in the paper, or a gate on a whole neuron, embedding row, embedding dimension or field"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all units together, as in the paper; per_tensor makes each tensor (neuron: each layer, embedding_row: each field) reach the target on its own"},
  "calibration_batches": {"type": "integer", "default": 8, "minimum": 1,
    "help": "Number of training batches whose gradients form the calibration set D"},
  "accumulation": {"type": "string", "default": "signed_sum",
    "enum": ["signed_sum", "absolute_sum", "squared_mean"],
    "help": "How batch sensitivities s_b combine: signed_sum = |sum_b s_b| (the paper's gradient over D), absolute_sum = sum_b |s_b|, squared_mean = mean_b s_b^2 (first-order Taylor)"}
}})json";

/// SNIP connection sensitivity |w * dL/dw| over the calibration batches.
class SnipPruner : public GradientPruner {
public:
    SnipPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : GradientPruner(params, {"snip", "weight", "signed_sum", false}) {}
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(SnipPruner, "snip", "1.0.0",
                         "SNIP connection sensitivity |w * dL/dw| over calibration batches "
                         "(Lee et al., ICLR 2019)",
                         kSchema)
