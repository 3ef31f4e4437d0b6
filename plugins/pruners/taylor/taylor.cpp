// The taylor pruner: first-order Taylor importance from Molchanov, Mallya, Tyree, Frosio and
// Kautz, "Importance Estimation for Neural Network Pruning", CVPR 2019, section 3. The squared
// loss change from removing a parameter is approximated by the first Taylor term (g_m w_m)^2,
// and for a gate on a group of parameters S (here a unit) by (sum over s in S of g_s w_s)^2,
// averaged over the calibration batches.
#include "../common/gradient_pruner.hpp"

#include "recprune/sdk.hpp"

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "neuron",
    "enum": ["weight", "neuron", "embedding_row", "embedding_dim", "field"],
    "help": "Units to prune: hidden neurons as in the paper, or single weights, embedding rows, embedding dimensions or fields"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all units together, as in the paper; per_tensor makes each tensor (neuron: each layer, embedding_row: each field) reach the target on its own"},
  "calibration_batches": {"type": "integer", "default": 8, "minimum": 1,
    "help": "Number of training batches the importance is averaged over"},
  "accumulation": {"type": "string", "default": "squared_mean",
    "enum": ["signed_sum", "absolute_sum", "squared_mean"],
    "help": "How batch sensitivities s_b = sum of g*w combine: squared_mean = mean_b s_b^2 (the paper), absolute_sum = sum_b |s_b|, signed_sum = |sum_b s_b|"}
}})json";

/// First-order Taylor importance (sum of g * w)^2 over the calibration batches.
class TaylorPruner : public GradientPruner {
public:
    TaylorPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : GradientPruner(params, {"taylor", "neuron", "squared_mean", false}) {}
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(TaylorPruner, "taylor", "1.0.0",
                         "First-order Taylor importance (sum of g*w)^2 over calibration batches "
                         "(Molchanov et al., CVPR 2019)",
                         kSchema)
