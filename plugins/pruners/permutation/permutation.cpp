// The permutation pruner: permutation feature importance on validation data. A field's score is
// the drop of the validation metric when its ids are shuffled across rows, averaged over
// `repeats` shuffles. Fields whose shuffling costs least are removed first. This is the
// variable importance of Breiman, "Random Forests", Machine Learning 45, 2001 (the increase in
// error when a variable's values are permuted), measured on a trained model as in Fisher, Rudin
// and Dominici's model reliance (JMLR 20, 2019).
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <span>
#include <string>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "repeats": {"type": "integer", "default": 3, "minimum": 1,
    "help": "Number of shuffles per field; the score is the mean metric drop over them"}
}})json";

constexpr uint64_t kFieldStride = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kRepeatStride = 0xd1b54a32d192ed03ULL;

/// Scores fields by the validation metric lost when the field is permuted.
class PermutationPruner : public recprune::Pruner {
public:
    PermutationPruner(const recprune::Host& /*host*/, const json& params, uint64_t seed)
        : repeats_(params.value("repeats", 3u)), seed_(seed) {
        if (repeats_ == 0) {
            throw recprune::InvalidArgument(
                "invalid parameter: repeats: 0 is not positive; give at least 1");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_FIELD);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, RECPRUNE_GRANULARITY_FIELD);
        double baseline = context.evaluate_permuted(RECPRUNE_NO_FIELD, 0);
        for (const Block& block : parse_blocks(context.units())) {
            double drop = 0.0;
            for (uint32_t repeat = 0; repeat < repeats_; ++repeat) {
                // A permutation seed per (field, repeat) that depends on the pruner's seed only.
                uint64_t key = seed_ + block.field * kFieldStride + repeat * kRepeatStride;
                uint64_t permutation_seed =
                    static_cast<uint64_t>(uniform_from_key(key) * 0x1.0p53);
                drop += baseline - context.evaluate_permuted(block.field, permutation_seed);
            }
            scores[block.offset] = drop / repeats_;
        }
        check_scores_finite(scores, "permutation");
    }

private:
    uint32_t repeats_;
    uint64_t seed_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(PermutationPruner, "permutation", "1.0.0",
                         "Permutation importance: fields whose shuffling costs least go first",
                         kSchema)
