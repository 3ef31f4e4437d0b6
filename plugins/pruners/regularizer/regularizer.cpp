// The regularizer pruner: sparsity-inducing penalties during training, then pruning by
// magnitude. With penalty "l1" the host adds the subgradient of strength * sum |w| (the lasso of
// Tibshirani, "Regression Shrinkage and Selection via the Lasso", JRSS-B 58(1), 1996) to the
// gradient of every embedding and dense weight after each backward pass. With "group_lasso" it
// adds the gradient of strength * sum over units G of sqrt(|G|) ||w_G||_2 (Yuan and Lin, "Model
// Selection and Estimation in Regression with Grouped Variables", JRSS-B 68(1), 2006), with
// units as groups as in Wen et al., "Learning Structured Sparsity in Deep Neural Networks",
// NeurIPS 2016, which drives whole neurons, rows, dimensions or fields towards zero together.
// When the schedule prunes, units score by their L2 norm, so what the penalty shrank goes first.
//
// Known limit: an embedding gradient is valid only on the rows the batch looked up, and the host
// updates only those rows. The penalty therefore reaches a row only when a batch uses it, which
// is the lazy penalty usual for sparse embedding updates.
#include "../common/magnitude_scores.hpp"
#include "../common/pruner_support.hpp"
#include "../common/structure_blocks.hpp"

#include "recprune/sdk.hpp"

#include <cmath>
#include <span>
#include <string>
#include <vector>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "penalty": {"type": "string", "default": "l1", "enum": ["l1", "group_lasso"],
    "help": "l1 penalises every weight (strength * sum |w|); group_lasso penalises every unit of the granularity (strength * sum sqrt(|G|) ||w_G||_2)"},
  "strength": {"type": "number", "default": 1e-5, "minimum": 0,
    "help": "Penalty coefficient lambda, in loss units per unit of |w| (l1) or of ||w_G||_2 (group_lasso)"},
  "granularity": {"type": "string", "default": "auto",
    "enum": ["auto", "weight", "neuron", "embedding_row", "embedding_dim", "field"],
    "help": "Units that are penalised as groups and pruned; auto is weight for l1 and neuron for group_lasso"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all units together; per_tensor makes each tensor (neuron: each layer, embedding_row: each field) reach the target on its own"}
}})json";

/// Adds an L1 or group lasso penalty gradient during training and prunes by magnitude.
class RegularizerPruner : public recprune::Pruner {
public:
    RegularizerPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : group_lasso_(parse_penalty(params.value("penalty", "l1"))),
          strength_(params.value("strength", 1e-5)),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "global"))) {
        std::string granularity = params.value("granularity", "auto");
        if (granularity == "auto") granularity = group_lasso_ ? "neuron" : "weight";
        granularity_ = parse_granularity(granularity);
        if (!(strength_ >= 0.0) || !std::isfinite(strength_)) {
            throw recprune::InvalidArgument("invalid parameter: strength: " +
                                            std::to_string(strength_) +
                                            " is not a finite number >= 0; give for example 1e-5");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_, true);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        score_by_magnitude(context, scores, MagnitudeOptions{}, "regularizer");
    }

    void regularize(std::span<const recprune_tensor_t> tensors, const json& structure) override {
        if (strength_ == 0.0) return;
        if (!group_lasso_) {
            add_l1(tensors);
            return;
        }
        if (blocks_.empty() || structure != structure_) {
            blocks_ = blocks_from_structure(granularity_, tensors, structure);
            structure_ = structure;
        }
        for (const Block& block : blocks_) {
            for (uint64_t unit = 0; unit < block.count; ++unit) add_group_lasso(tensors, block, unit);
        }
    }

private:
    static bool parse_penalty(const std::string& text) {
        if (text == "group_lasso") return true;
        if (text == "l1") return false;
        throw recprune::InvalidArgument("invalid parameter: penalty: \"" + text +
                                        "\" is not one of l1, group_lasso; pick one of these");
    }

    /// Adds strength * sign(w); a weight at 0 (pruned, or exactly zero) gets the subgradient 0.
    void add_l1(std::span<const recprune_tensor_t> tensors) const {
        float step = static_cast<float>(strength_);
        for (const recprune_tensor_t& tensor : tensors) {
            if (tensor.role != RECPRUNE_TENSOR_ROLE_EMBEDDING &&
                tensor.role != RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT) {
                continue;
            }
            for (uint64_t element = 0; element < tensor.element_count; ++element) {
                float value = tensor.data[element];
                if (value > 0.0f) {
                    tensor.grad[element] += step;
                } else if (value < 0.0f) {
                    tensor.grad[element] -= step;
                }
            }
        }
    }

    /// Adds strength * sqrt(|G|) * w / ||w_G||_2 to the unit's gradients; a unit whose weights
    /// are all zero gets the subgradient 0.
    void add_group_lasso(std::span<const recprune_tensor_t> tensors, const Block& block,
                         uint64_t unit) const {
        double squares = 0.0;
        uint64_t size = 0;
        for_each_unit_element(tensors, block, unit, [&](uint32_t tensor, uint64_t element) {
            double value = tensors[tensor].data[element];
            squares += value * value;
            ++size;
        });
        if (squares == 0.0) return;
        double factor = strength_ * std::sqrt(static_cast<double>(size)) / std::sqrt(squares);
        for_each_unit_element(tensors, block, unit, [&](uint32_t tensor, uint64_t element) {
            tensors[tensor].grad[element] +=
                static_cast<float>(factor * tensors[tensor].data[element]);
        });
    }

    bool group_lasso_;
    double strength_;
    bool per_tensor_;
    recprune_granularity_t granularity_ = RECPRUNE_GRANULARITY_WEIGHT;
    json structure_;
    std::vector<Block> blocks_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(RegularizerPruner, "regularizer", "1.0.0",
                         "L1 or group lasso penalty during training, then magnitude pruning",
                         kSchema)
