// The field_gradient pruner: gradient-based feature selection. Each field (or each feature
// value) gets a gate a multiplying its embedding output e_f, and its importance is the gradient
// of the loss with respect to that gate at a = 1:
//     dL/da_f = sum over rows of e_f . dL/de_f.
// With sum pooling this equals sum over the field's embedding tables of w * dL/dw, so it is
// computed from the embedding gradients alone, over `calibration_batches` training batches. It
// is SNIP's connection sensitivity (Lee, Ajanthan and Torr, ICLR 2019, equation 6) applied to
// field gates instead of single weights. At granularity embedding_row the gate is per feature
// value. Unlike SNIP on a trained model, whose batch gradients nearly cancel at a minimum, the
// default combines batches by sum_b |s_b|.
#include "../common/gradient_pruner.hpp"

#include "recprune/sdk.hpp"

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "field", "enum": ["field", "embedding_row"],
    "help": "field gates a whole feature; embedding_row gates each feature value (row of its embedding tables)"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all units together; per_tensor (embedding_row only) makes each field reach the target on its own"},
  "calibration_batches": {"type": "integer", "default": 8, "minimum": 1,
    "help": "Number of training batches whose gradients are accumulated"},
  "accumulation": {"type": "string", "default": "absolute_sum",
    "enum": ["signed_sum", "absolute_sum", "squared_mean"],
    "help": "How batch gate gradients s_b combine: absolute_sum = sum_b |s_b|, signed_sum = |sum_b s_b|, squared_mean = mean_b s_b^2"}
}})json";

/// Field (or feature value) gate gradient from the embedding tables' w * dL/dw.
class FieldGradientPruner : public GradientPruner {
public:
    FieldGradientPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : GradientPruner(params, {"field_gradient", "field", "absolute_sum", true}) {
        if (granularity() != RECPRUNE_GRANULARITY_FIELD &&
            granularity() != RECPRUNE_GRANULARITY_EMBEDDING_ROW) {
            throw recprune::InvalidArgument(
                "invalid parameter: granularity: field_gradient scores fields or embedding rows "
                "only; pick field or embedding_row, or use snip for other units");
        }
    }
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(FieldGradientPruner, "field_gradient", "1.0.0",
                         "Gradient of a field (or feature value) gate, from embedding w * dL/dw",
                         kSchema)
