// The @NAME@ pruner.
//
// Written by `recprune new-plugin pruner @NAME@`. As written it scores each weight by its
// magnitude |w|, so it behaves like the built-in magnitude pruner at weight granularity; replace
// the body of score() with your criterion and the description below with what it does.
//
// What the host does around a pruner, which the recprune docs describe in detail ("Pruning
// units" in @DOC_DIR@/abi.md):
// - it creates the pruner once per cell with the grid's parameters, already checked against
//   kSchema with defaults filled in, and a seed derived from the cell's seed;
// - info() declares the granularity, and the host enumerates the units: at weight granularity
//   every element of every embedding and dense weight tensor (biases are never units);
// - score() writes one score per unit, and the host prunes the lowest scores first until the
//   target sparsity is reached, applies the masks and fine-tunes. A pruner never changes weights.
#include "recprune/sdk.hpp"

#include <cmath>
#include <cstdint>
#include <span>
#include <string>

namespace {

using recprune::json;

// Parameters as `recprune plugins` lists them. The host checks grids against this schema before
// any cell runs. Types are integer, number, string, boolean, array and object, and a parameter
// may give default, minimum, maximum, enum and help.
constexpr const char* kSchema = R"json({"parameters": {
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks the weights of all tensors together; per_tensor makes each tensor reach the target sparsity on its own"}
}})json";

/// Scores every weight by |w|; lower scores are pruned first.
class @CLASS@Pruner : public recprune::Pruner {
public:
    @CLASS@Pruner(const recprune::Host& host, const json& params, uint64_t seed)
        : host_(host), scope_(params.value("scope", std::string("global"))) {
        (void)seed;  // use it for any randomness, so that a cell is reproducible
        if (scope_ != "global" && scope_ != "per_tensor") {
            throw recprune::InvalidArgument("invalid parameter: @NAME@.scope: \"" + scope_ +
                                            "\" is not one of global, per_tensor; give either");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_WEIGHT, scope_ == "per_tensor");
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        // At weight granularity the units description has one block per prunable tensor. The
        // block owns scores [offset, offset + count), and unit offset + i is element i, in
        // row-major order, of tensor context.tensors()[block["tensor"]].
        const json units = context.units();
        for (const json& block : units.at("blocks")) {
            const recprune_tensor_t& tensor =
                context.tensors()[block.at("tensor").get<uint32_t>()];
            const uint64_t offset = block.at("offset").get<uint64_t>();
            const uint64_t count = block.at("count").get<uint64_t>();
            for (uint64_t i = 0; i < count; ++i) {
                scores[offset + i] = std::fabs(static_cast<double>(tensor.data[i]));
            }
        }
        if (host_.log_enabled(RECPRUNE_LOG_LEVEL_DEBUG)) {
            host_.debug("scored " + std::to_string(scores.size()) + " weights");
        }
    }

private:
    recprune::Host host_;
    std::string scope_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(@CLASS@Pruner, "@NAME@", "0.1.0",
                         "@NAME@: scores each weight by its magnitude |w| (scaffold)", kSchema)
