// The random pruner: the baseline every pruning comparison needs. Each unit gets a uniform
// score in [0, 1) drawn from the pruner's seed and the unit's index, so the ranking is the same
// at every step of an iterative schedule and on every platform.
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <span>
#include <string>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

constexpr const char* kSchema = R"json({"parameters": {
  "granularity": {"type": "string", "default": "weight",
    "enum": ["weight", "neuron", "embedding_row", "embedding_dim", "field"],
    "help": "Units to prune: single weights, hidden neurons, embedding rows (feature values), embedding dimensions or whole input fields"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all units together; per_tensor makes each tensor (neuron: each layer, embedding_row: each field) reach the target on its own"}
}})json";

/// Scores every unit with an independent uniform draw. The unit kept or pruned depends on the
/// seed only, never on the weights, which makes this the control against which a pruner that
/// reads the model has to show a gain.
class RandomPruner : public recprune::Pruner {
public:
    RandomPruner(const recprune::Host& /*host*/, const json& params, uint64_t seed)
        : granularity_(parse_granularity(params.value("granularity", "weight"))),
          per_tensor_(parse_per_tensor_scope(params.value("scope", "global"))),
          seed_(seed) {}

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(granularity_, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, granularity_);
        for (uint64_t unit = 0; unit < scores.size(); ++unit) {
            // SplitMix64 stream: state seed + (unit + 1) * gamma, one draw per unit.
            scores[unit] = uniform_from_key(seed_ + unit * kGoldenGamma);
        }
    }

private:
    recprune_granularity_t granularity_;
    bool per_tensor_;
    uint64_t seed_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(RandomPruner, "random", "1.0.0",
                         "Uniform random scores from the seed: the baseline pruner", kSchema)
