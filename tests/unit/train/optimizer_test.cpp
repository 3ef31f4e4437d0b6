// The host's optimizers: one or two steps checked against the update rules worked by hand, the
// lazy update of embedding rows, and masked weights that stay exactly zero through training.
#include "train/optimizer.hpp"

#include "../models/model_plugin.hpp"
#include "prune/masks.hpp"
#include "prune/units.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

using recprune::grid::TrainingSettings;
using recprune::train::Optimizer;

/// A tensor that owns its weights and grads.
struct OwnedTensor {
    std::string name;
    recprune_tensor_role_t role;
    std::vector<uint64_t> shape;
    std::vector<float> data;
    std::vector<float> grad;

    recprune_tensor_t view() {
        recprune_tensor_t tensor{};
        tensor.name = name.c_str();
        tensor.role = role;
        tensor.rank = static_cast<uint32_t>(shape.size());
        for (size_t axis = 0; axis < shape.size(); ++axis) tensor.shape[axis] = shape[axis];
        tensor.element_count = data.size();
        tensor.data = data.data();
        tensor.grad = grad.data();
        return tensor;
    }
};

TrainingSettings settings(const std::string& optimizer, double lr, double weight_decay = 0.0,
                          double momentum = 0.9) {
    TrainingSettings s;
    s.optimizer = optimizer;
    s.lr = lr;
    s.weight_decay = weight_decay;
    s.momentum = momentum;
    return s;
}

const auto kNoRows = [](uint32_t) { return std::span<const uint32_t>(); };

}  // namespace

TEST_CASE("optimizer: one Adam step with weight decay moves each weight by about lr") {
    // Step 1 of Adam: m = 0.1 g', v = 0.001 g'^2, and the bias corrections 0.1 and 0.001
    // cancel them, so w -= lr g' / (|g'| + 1e-8), about lr times the sign of g'.
    // g' = g + 0.01 w: w = 1, g = 0.5 gives g' = 0.51 and w = 0.9; w = -2, g = 0.1 gives
    // g' = 0.08 and w = -2.1. The bias is not decayed: with g = 0 it does not move.
    OwnedTensor weight{"w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2}, {1.0f, -2.0f}, {0.5f, 0.1f}};
    OwnedTensor bias{"b", RECPRUNE_TENSOR_ROLE_BIAS, {1}, {1.0f}, {0.0f}};
    std::vector<recprune_tensor_t> views{weight.view(), bias.view()};
    Optimizer optimizer(settings("adam", 0.1, 0.01), views);

    optimizer.step(views, kNoRows, nullptr);

    CHECK(weight.data[0] == doctest::Approx(0.9).epsilon(1e-6));
    CHECK(weight.data[1] == doctest::Approx(-2.1).epsilon(1e-6));
    CHECK(bias.data[0] == 1.0f);
}

TEST_CASE("optimizer: SGD with momentum accumulates a velocity") {
    // v1 = 0.5, w1 = 1 - 0.1 x 0.5 = 0.95; v2 = 0.9 x 0.5 + 0.5 = 0.95, w2 = 0.95 - 0.095.
    OwnedTensor weight{"w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1}, {1.0f}, {0.5f}};
    std::vector<recprune_tensor_t> views{weight.view()};
    Optimizer optimizer(settings("sgd", 0.1), views);

    optimizer.step(views, kNoRows, nullptr);
    CHECK(weight.data[0] == doctest::Approx(0.95).epsilon(1e-6));
    optimizer.step(views, kNoRows, nullptr);
    CHECK(weight.data[0] == doctest::Approx(0.855).epsilon(1e-6));
}

TEST_CASE("optimizer: Adagrad divides by the root of the summed squared grads") {
    // s1 = 0.25, w1 = 1 - 0.1 x 0.5 / 0.5 = 0.9; s2 = 0.5, w2 = 0.9 - 0.05 / sqrt(0.5).
    OwnedTensor weight{"w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1}, {1.0f}, {0.5f}};
    std::vector<recprune_tensor_t> views{weight.view()};
    Optimizer optimizer(settings("adagrad", 0.1), views);

    optimizer.step(views, kNoRows, nullptr);
    CHECK(weight.data[0] == doctest::Approx(0.9).epsilon(1e-6));
    optimizer.step(views, kNoRows, nullptr);
    CHECK(weight.data[0] == doctest::Approx(0.9 - 0.05 / std::sqrt(0.5)).epsilon(1e-6));
}

TEST_CASE("optimizer: embedding rows a batch did not touch keep their weights") {
    // A 3 x 2 table whose grad is 1 everywhere; only the listed rows may change, because the
    // grads of the other rows are stale by the embedding contract.
    OwnedTensor table{"e", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, std::vector<float>(6, 1.0f),
                      std::vector<float>(6, 1.0f)};
    std::vector<recprune_tensor_t> views{table.view()};
    Optimizer optimizer(settings("sgd", 0.1, 0.0, 0.0), views);
    std::vector<uint32_t> touched{1};

    optimizer.step(views, [&](uint32_t) { return std::span<const uint32_t>(touched); },
                   nullptr);

    // Row 1: 1 - 0.1 x 1 = 0.9; rows 0 and 2 untouched.
    CHECK(table.data == std::vector<float>{1.0f, 1.0f, 0.9f, 0.9f, 1.0f, 1.0f});
}

TEST_CASE("optimizer: masked weights and their state stay exactly zero through 100 steps") {
    // DeepFM on random batches, half of every tensor's weights pruned at random. After every
    // step each pruned weight must be +0.0 exactly; the unpruned ones must move, so the test
    // checks that real grads flow. Run for each optimizer, with weight decay, which would pull a
    // weight away from 0 only through its state.
    using namespace recprune::test;
    const std::vector<TestField> fields = {
        {"user", 7, false, "user"}, {"genre", 5, true}, {"city", 4, false}};
    const json params = {{"embedding_dim", 4},
                         {"hidden_layers", {8, 6}},
                         {"pooling", "mean"},
                         {"precision", "f32"}};
    static ModelPlugin deepfm("deepfm");

    for (const char* name : {"adam", "sgd", "adagrad"}) {
        CAPTURE(std::string(name));
        ModelInstance model(deepfm, params, make_schema(fields, 2), 41);
        const std::vector<recprune_tensor_t> tensors = model.tensors();
        randomize(tensors, 0.5f, 42);

        recprune::prune::UnitSet units = recprune::prune::UnitSet::build(
            RECPRUNE_GRANULARITY_WEIGHT, tensors, boost::json::value());
        recprune::prune::MaskSet masks(tensors);
        std::mt19937_64 rng(43);
        std::vector<uint64_t> pruned;
        for (uint64_t unit = 0; unit < units.size(); ++unit) {
            if (rng() % 2 == 0) pruned.push_back(unit);
        }
        masks.prune_units(units, pruned);
        masks.apply(tensors);
        std::vector<std::vector<float>> before;
        for (const auto& t : tensors) before.emplace_back(t.data, t.data + t.element_count);

        Optimizer optimizer(settings(name, 0.05, 0.01), tensors);
        optimizer.apply_masks(masks);
        uint64_t pruned_with_grad = 0;
        for (int step = 0; step < 100; ++step) {
            TestBatch batch = random_batch(fields, 2, 16, 100 + step);
            std::vector<float> logits = model.forward(batch, true);
            // d logloss / d z = sigmoid(z) - y, with labels alternating 0 and 1.
            for (size_t r = 0; r < logits.size(); ++r) {
                logits[r] = static_cast<float>(sigmoid(logits[r]) - static_cast<double>(r % 2));
            }
            model.backward(batch, logits);
            for (uint32_t t = 0; t < tensors.size(); ++t) {
                const uint8_t* mask = masks.mask(t);
                if (mask == nullptr || tensors[t].role == RECPRUNE_TENSOR_ROLE_EMBEDDING) continue;
                for (uint64_t i = 0; i < tensors[t].element_count; ++i) {
                    if (mask[i] == 0 && tensors[t].grad[i] != 0.0f) ++pruned_with_grad;
                }
            }
            std::vector<std::vector<uint32_t>> touched;
            for (uint32_t t = 0; t < tensors.size(); ++t) {
                touched.push_back(tensors[t].role == RECPRUNE_TENSOR_ROLE_EMBEDDING
                                      ? model.touched_rows(t)
                                      : std::vector<uint32_t>());
            }
            optimizer.step(
                tensors, [&](uint32_t t) { return std::span<const uint32_t>(touched[t]); },
                &masks);

            uint64_t nonzero_pruned = 0;
            for (uint32_t t = 0; t < tensors.size(); ++t) {
                const uint8_t* mask = masks.mask(t);
                if (mask == nullptr) continue;
                for (uint64_t i = 0; i < tensors[t].element_count; ++i) {
                    const float w = tensors[t].data[i];
                    if (mask[i] == 0 && (w != 0.0f || std::signbit(w))) ++nonzero_pruned;
                }
            }
            REQUIRE(nonzero_pruned == 0);
        }
        // The grads of pruned weights were not zero, so only the masking kept them at 0.
        CHECK(pruned_with_grad > 0);
        uint64_t moved = 0;
        for (uint32_t t = 0; t < tensors.size(); ++t) {
            for (uint64_t i = 0; i < tensors[t].element_count; ++i) {
                if (tensors[t].data[i] != before[t][i]) ++moved;
            }
        }
        CHECK(moved > 0);
    }
}
