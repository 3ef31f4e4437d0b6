// The lamp pruner: layer-adaptive magnitude-based pruning (LAMP) from Lee, Park, Mo, Ahn and
// Shin, "Layer-adaptive Sparsity for the Magnitude-based Pruning", ICLR 2021 (arXiv 2010.07611).
//
// Global magnitude pruning ranks the weights of all tensors by |w| together, so a tensor whose
// weights are small overall, such as a wide embedding table, loses most of its weights first.
// LAMP rescales each weight by the weights of its own tensor that survive it. With the weights
// of a tensor sorted by magnitude, |w_1| <= |w_2| <= ... <= |w_n|, the score of w_u is
//     score(u) = w_u^2 / (w_u^2 + w_{u+1}^2 + ... + w_n^2),
// and the weights of all tensors are then pruned together, lowest score first. The largest
// weight of every tensor scores 1, so no tensor is emptied unless the target keeps fewer weights
// than there are tensors. Each tensor's sparsity follows from the scores instead of being set
// by hand.
#include "recprune/sdk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace {

using recprune::json;

// LAMP has no parameter: the whole point is a global ranking without per-tensor settings.
constexpr const char* kSchema = R"json({"parameters": {}})json";

/// Writes the LAMP score of each of `count` weights into `scores`. Ties in magnitude keep their
/// element order, so the scores do not depend on the sort implementation.
void score_tensor(const float* weights, uint64_t count, double* scores) {
    std::vector<uint64_t> order(count);
    std::iota(order.begin(), order.end(), uint64_t{0});
    std::stable_sort(order.begin(), order.end(), [weights](uint64_t a, uint64_t b) {
        return std::fabs(weights[a]) < std::fabs(weights[b]);
    });

    // Walk from the largest weight down, keeping the sum of squares of the weights seen so far.
    double suffix_sum = 0.0;
    for (uint64_t rank = count; rank-- > 0;) {
        const double square = static_cast<double>(weights[order[rank]]) * weights[order[rank]];
        suffix_sum += square;
        // A zero weight (already pruned, or never trained) scores 0; the division would be 0/0
        // when every larger weight is zero too.
        scores[order[rank]] = square == 0.0 ? 0.0 : square / suffix_sum;
    }
}

/// Scores every weight by its LAMP score; lower scores are pruned first, across all tensors.
class LampPruner : public recprune::Pruner {
public:
    LampPruner(const recprune::Host& host, const json& params, uint64_t seed) : host_(host) {
        (void)params;
        (void)seed;  // LAMP is deterministic
    }

    recprune_pruner_info_t info() const override {
        // One global ranking: LAMP's scores are made to be compared across tensors.
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_WEIGHT, /*per_tensor=*/false);
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
            score_tensor(tensor.data, count, scores.data() + offset);
            if (host_.log_enabled(RECPRUNE_LOG_LEVEL_DEBUG)) {
                host_.debug("scored " + std::to_string(count) + " weights of " + tensor.name);
            }
        }
    }

private:
    recprune::Host host_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(LampPruner, "lamp", "0.1.0",
                         "LAMP: |w|^2 over the sum of the squares of the tensor's larger weights",
                         kSchema)
