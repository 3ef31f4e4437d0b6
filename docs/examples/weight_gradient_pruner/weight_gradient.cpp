// weight_gradient: an example recprune pruner, built outside the recprune tree.
//
// The score of weight w is the mean over calibration batches b of |w * dL_b/dw|, the first-order
// Taylor estimate of how much the mean loss of batch b changes when w is set to zero. Weights
// with the lowest scores are pruned first. The in-tree snip and taylor pruners compute scores of
// this kind for structured units as well.
#include <recprune/sdk.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

using recprune::json;

constexpr const char* kSchema = R"json({"parameters": {
  "calibration_batches": {"type": "integer", "default": 8, "minimum": 1, "maximum": 100000,
    "help": "Number of training batches whose gradients the score is averaged over"},
  "scope": {"type": "string", "default": "global", "enum": ["global", "per_tensor"],
    "help": "global ranks all weights together; per_tensor prunes the target fraction of every tensor"}
}})json";

// One tensor's weights in the score array: unit `offset + i` is element `start + i * step`.
struct WeightBlock {
    uint32_t tensor = 0;
    uint64_t offset = 0;
    uint64_t count = 0;
    uint64_t start = 0;
    uint64_t step = 1;
};

// Reads the units description of granularity "weight": one block per prunable tensor, each
// with one flat slice.
std::vector<WeightBlock> read_weight_blocks(const json& units) {
    std::vector<WeightBlock> blocks;
    for (const json& block : units.at("blocks")) {
        const json& slice = block.at("slices").at(0);
        blocks.push_back({slice.at("tensor").get<uint32_t>(), block.at("offset").get<uint64_t>(),
                          block.at("count").get<uint64_t>(), slice.at("start").get<uint64_t>(),
                          slice.at("step").get<uint64_t>()});
    }
    return blocks;
}

// Marks, per embedding tensor, the rows that `batch` looks up. A backward pass writes only those
// rows of an embedding gradient. The other rows contain stale values, and their true gradient for
// this batch is zero. Other tensors get an empty vector because all their elements are valid.
std::vector<std::vector<bool>> looked_up_rows(std::span<const recprune_tensor_t> tensors,
                                              const recprune_batch_t& batch) {
    std::vector<std::vector<bool>> rows(tensors.size());
    for (size_t index = 0; index < tensors.size(); ++index) {
        const recprune_tensor_t& tensor = tensors[index];
        if (tensor.role != RECPRUNE_TENSOR_ROLE_EMBEDDING || tensor.field >= batch.field_count) {
            continue;
        }
        rows[index].assign(tensor.shape[0], false);
        const uint32_t* ids = batch.ids[tensor.field];
        const uint64_t* offsets = batch.offsets[tensor.field];
        // A multi-hot field has offsets[row_count] ids in all, a single-valued field one per row.
        const uint64_t id_count = offsets != nullptr ? offsets[batch.row_count] : batch.row_count;
        for (uint64_t position = 0; position < id_count; ++position) {
            if (ids[position] >= tensor.shape[0]) {
                throw recprune::InvalidArgument(
                    "invalid batch: tensor " + std::string(tensor.name) + ": id " +
                    std::to_string(ids[position]) + " is outside its " +
                    std::to_string(tensor.shape[0]) + " rows; this pruner needs one "
                    "embedding row per vocabulary entry");
            }
            rows[index][ids[position]] = true;
        }
    }
    return rows;
}

class WeightGradientPruner : public recprune::Pruner {
public:
    // The host has checked `params` against kSchema and filled in the defaults.
    WeightGradientPruner(const recprune::Host& host, const json& params, uint64_t /*seed*/)
        : host_(host),
          calibration_batches_(params.at("calibration_batches").get<uint32_t>()),
          per_tensor_(params.at("scope").get<std::string>() == "per_tensor") {}

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_WEIGHT, per_tensor_);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        const std::vector<WeightBlock> blocks = read_weight_blocks(context.units());
        std::fill(scores.begin(), scores.end(), 0.0);

        uint32_t batch_count = 0;
        context.gradient_pass(calibration_batches_, [&](const recprune_tensor_t* tensor_array,
                                                        uint32_t tensor_count,
                                                        const recprune_batch_t& batch) {
            std::span<const recprune_tensor_t> tensors(tensor_array, tensor_count);
            const std::vector<std::vector<bool>> rows = looked_up_rows(tensors, batch);
            for (const WeightBlock& block : blocks) {
                const recprune_tensor_t& tensor = tensors[block.tensor];
                const std::vector<bool>& tensor_rows = rows[block.tensor];
                const uint64_t row_size = tensor.element_count / tensor.shape[0];
                for (uint64_t unit = 0; unit < block.count; ++unit) {
                    const uint64_t element = block.start + unit * block.step;
                    if (!tensor_rows.empty() && !tensor_rows[element / row_size]) continue;
                    scores[block.offset + unit] +=
                        std::fabs(static_cast<double>(tensor.data[element]) * tensor.grad[element]);
                }
            }
            ++batch_count;
        });

        // A weight in an embedding row that no calibration batch looked up keeps the score 0,
        // the lowest possible, so such weights are pruned first.
        uint64_t zero_count = 0;
        for (double& score : scores) {
            score /= batch_count;
            zero_count += score == 0.0 ? 1 : 0;
        }
        host_.debug("scored " + std::to_string(scores.size()) + " weights over " +
                    std::to_string(batch_count) + " calibration batches; " +
                    std::to_string(zero_count) + " scored 0");
    }

private:
    recprune::Host host_;
    uint32_t calibration_batches_;
    bool per_tensor_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(WeightGradientPruner, "weight_gradient", "0.1.0",
                         "Mean |w * dL/dw| over calibration batches, per weight", kSchema)
