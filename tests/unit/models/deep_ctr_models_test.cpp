// DeepFM and Wide & Deep plugins, driven through the C ABI.
#include "model_checks.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace recprune::test;

const std::vector<TestField> kFields = {
    {"user", 7, false, "user"}, {"genre", 5, true}, {"city", 4, false}};
constexpr uint32_t kDense = 2;

ModelPlugin& plugin(const std::string& name) {
    static ModelPlugin deepfm("deepfm");
    static ModelPlugin wide_deep("wide_deep");
    return name == "deepfm" ? deepfm : wide_deep;
}

json small_params(const char* pooling = "mean") {
    return {{"embedding_dim", 4},
            {"hidden_layers", {8, 6}},
            {"pooling", pooling},
            {"precision", "f32"}};
}

}  // namespace

TEST_CASE("deep CTR models: gradients match central differences") {
    for (const char* name : {"deepfm", "wide_deep"}) {
        for (const char* pooling : {"sum", "mean"}) {
            CAPTURE(std::string(name));
            CAPTURE(std::string(pooling));
            ModelInstance model(plugin(name), small_params(pooling),
                                make_schema(kFields, kDense), 31);
            randomize(model.tensors(), 0.5f, 32);
            TestBatch batch = random_batch(kFields, kDense, 8, 33);

            check_gradients(model, batch, 34);
        }
    }
}

TEST_CASE("deep CTR models: DeepFM adds the FM term to Wide & Deep") {
    // Same seed and parameters give the same tensors, so the logit difference is the FM term,
    // computed here from the pooled embeddings as the sum over field pairs of <e_f, e_g>.
    ModelInstance deepfm(plugin("deepfm"), small_params(), make_schema(kFields, kDense), 35);
    ModelInstance wide_deep(plugin("wide_deep"), small_params(), make_schema(kFields, kDense),
                            35);
    randomize(deepfm.tensors(), 0.5f, 36);
    randomize(wide_deep.tensors(), 0.5f, 36);
    TestBatch batch = random_batch(kFields, kDense, 4, 37);

    const std::vector<float> with_fm = deepfm.forward(batch, false);
    const std::vector<float> without_fm = wide_deep.forward(batch, false);

    for (uint64_t row = 0; row < batch.rows; ++row) {
        std::vector<std::vector<double>> pooled;
        for (size_t f = 0; f < kFields.size(); ++f) {
            const recprune_tensor_t table = deepfm.tensor("embedding." + kFields[f].name);
            uint64_t begin = row;
            uint64_t end = row + 1;
            if (!batch.offsets[f].empty()) {
                begin = batch.offsets[f][row];
                end = batch.offsets[f][row + 1];
            }
            std::vector<double> e(4, 0.0);
            for (uint64_t k = begin; k < end; ++k) {
                for (int d = 0; d < 4; ++d) {
                    e[d] += table.data[batch.ids[f][k] * 4 + d] / static_cast<double>(end - begin);
                }
            }
            pooled.push_back(e);
        }
        double fm = 0.0;
        for (size_t f = 0; f < pooled.size(); ++f) {
            for (size_t g = f + 1; g < pooled.size(); ++g) {
                for (int d = 0; d < 4; ++d) fm += pooled[f][d] * pooled[g][d];
            }
        }
        CAPTURE(row);
        // f32 logits of magnitude below 10: a few ulp, so 1e-5 absolute is ample.
        CHECK(with_fm[row] - without_fm[row] == doctest::Approx(fm).epsilon(1e-5));
    }
}

TEST_CASE("deep CTR models: compacted model predicts like the masked one") {
    for (const char* name : {"deepfm", "wide_deep"}) {
        CAPTURE(std::string(name));
        ModelInstance model(plugin(name), small_params(), make_schema(kFields, kDense), 38);
        randomize(model.tensors(), 0.5f, 39);
        TestBatch batch = random_batch(kFields, kDense, 64, 40);
        PrunePlan plan;
        plan.removed_fields = {1};
        plan.kept_dims = {1, 3};
        plan.kept_neurons["mlp.0"] = {0, 2, 3, 7};
        plan.kept_neurons["mlp.1"] = {1, 4};
        plan.row_remap[0] = {0, 1, 0, 2, 3, 0, 4};

        // The inner products of the two models sum different numbers of terms (the masked one
        // adds exact zeros, but oneDNN may block and order the sums differently for other
        // shapes), so results agree to f32 rounding of sums of a few dozen terms below 10:
        // 1e-5 relative is a safe bound.
        check_compaction(model, plugin(name), plan, batch, 1e-5);
    }
}

TEST_CASE("deep CTR models: structure describes fields, dimensions and neurons") {
    ModelInstance model(plugin("deepfm"), small_params(), make_schema(kFields, kDense), 41);

    const json structure = model.structure();

    const json& genre = structure["fields"][1];
    CHECK(genre["name"] == "genre");
    CHECK(genre["slices"][2] ==
          json({{"tensor", "mlp.0.weight"}, {"axis", 1}, {"start", 4}, {"width", 4}}));
    CHECK(structure["embedding_dims"]["count"] == 4);
    CHECK(structure["embedding_dims"]["slices"].size() == 6);
    REQUIRE(structure["neurons"].size() == 2);
    CHECK(structure["neurons"][1]["layer"] == "mlp.1");
    CHECK(structure["neurons"][1]["count"] == 6);
    CHECK(structure["neurons"][1]["slices"][2]["tensor"] == "mlp.2.weight");
    CHECK(structure["compute"]["precision"] == "f32");
}

TEST_CASE("deep CTR models: save and load keep predictions") {
    for (const char* name : {"deepfm", "wide_deep"}) {
        CAPTURE(std::string(name));
        ModelInstance model(plugin(name), small_params(), make_schema(kFields, kDense), 42);
        TestBatch batch = random_batch(kFields, kDense, 8, 43);

        check_save_load(model, plugin(name), batch, std::string("recprune_") + name + ".bin");
    }
}

TEST_CASE("deep CTR models: cost counts the MLP") {
    ModelInstance model(plugin("wide_deep"), small_params(), make_schema(kFields, kDense), 44);

    const recprune_model_cost_t cost = model.cost();

    // Tables (7 + 5 + 4) x (1 + 4) = 80, linear.dense 2, bias 1, MLP 14x8 + 8 + 8x6 + 6 + 6x1
    // + 1 = 181: 264 in all.
    CHECK(cost.parameter_count == 264);
    // First order 3 + 2 x 2; MLP 2 x (112 + 48 + 6) + 8 + 6 + 1 = 347.
    CHECK(cost.flops_per_sample_dense == 354.0);
}

TEST_CASE("deep CTR models: FLOPs after masks skip only work on zeros") {
    ModelInstance model(plugin("wide_deep"), small_params(), make_schema(kFields, kDense), 46);
    randomize(model.tensors(), 0.5f, 47);
    REQUIRE(model.cost().flops_per_sample_nonzero == 354.0);

    // Neuron 0 of mlp.0 as structured pruning removes it: its 14 weights and bias, and its
    // column of mlp.1 (6 weights): 2 x 14 + 1 + 2 x 6 = 41 FLOPs.
    PrunePlan plan;
    plan.kept_neurons["mlp.0"] = {1, 2, 3, 4, 5, 6, 7};
    apply_masks(model, plan);
    CHECK(model.cost().flops_per_sample_nonzero == 313.0);

    // With its bias back, the neuron outputs a constant: one add, and still no multiply in
    // mlp.1, whose column for it is zero.
    model.tensor("mlp.0.bias").data[0] = 0.25f;
    CHECK(model.cost().flops_per_sample_nonzero == 314.0);

    // A single zero weight saves its multiply-add.
    model.tensor("mlp.1.weight").data[3] = 0.0f;
    CHECK(model.cost().flops_per_sample_nonzero == 312.0);
    CHECK(model.cost().flops_per_sample_dense == 354.0);
}

TEST_CASE("deep CTR models: dropout changes training outputs only") {
    json params = small_params();
    params["dropout"] = 0.5;
    ModelInstance model(plugin("deepfm"), params, make_schema(kFields, kDense), 45);
    randomize(model.tensors(), 0.5f, 46);
    TestBatch batch = random_batch(kFields, kDense, 16, 47);

    const std::vector<float> inference_a = model.forward(batch, false);
    const std::vector<float> training = model.forward(batch, true);
    const std::vector<float> inference_b = model.forward(batch, false);

    CHECK(inference_a == inference_b);
    CHECK(training != inference_a);
}

TEST_CASE("deep CTR models: bf16 predictions are close to f32") {
    json bf16_params = small_params();
    bf16_params["precision"] = "auto";
    ModelInstance automatic(plugin("deepfm"), bf16_params, make_schema(kFields, kDense), 48);
    if (automatic.structure()["compute"]["precision"] != "bf16") {
        MESSAGE("skipped: this CPU has no AMX, so the model runs in f32");
        return;
    }
    ModelInstance reference(plugin("deepfm"), small_params(), make_schema(kFields, kDense), 48);
    TestBatch batch = random_batch(kFields, kDense, 32, 49);

    const std::vector<float> low = automatic.forward(batch, false);
    const std::vector<float> high = reference.forward(batch, false);

    // bf16 keeps 8 significant bits (relative rounding 2^-9 = 0.002) per input and weight of
    // each layer; the MLP output here is below 1, so 0.02 absolute bounds the accumulated error.
    for (size_t row = 0; row < low.size(); ++row) {
        CAPTURE(row);
        CHECK(std::abs(low[row] - high[row]) <= 0.02);
    }
}

TEST_CASE("deep CTR models: inference pass reads the current weights") {
    // Without training the MLP runs oneDNN's inference primitive on a copy of the weights in
    // another layout (and, in bf16, type), made again only when the weights change. It must
    // agree with the training pass and see every change the host makes to the tensors between
    // calls, as masks and optimizer steps do. Layers this wide get a blocked layout, so the
    // copy is a real rearrangement. bf16 runs only where the CPU has AMX.
    for (const char* precision : {"f32", "auto"}) {
        CAPTURE(std::string(precision));
        json params = small_params("sum");
        params["embedding_dim"] = 16;
        params["hidden_layers"] = {64, 32};
        params["precision"] = precision;
        ModelInstance model(plugin("deepfm"), params, make_schema(kFields, kDense), 50);
        const bool bf16 = model.structure()["compute"]["precision"] == "bf16";
        if (std::string(precision) == "auto" && !bf16) continue;
        randomize(model.tensors(), 0.5f, 51);
        TestBatch batch = random_batch(kFields, kDense, 64, 52);

        // Both passes round the same weights to bf16, so they differ only in the order of
        // their sums: about 1e-6 relative in f32, a few bf16 roundings of the activations in
        // bf16.
        const double tolerance = bf16 ? 2e-2 : 1e-5;
        auto check_close = [&](const std::vector<float>& inference) {
            const std::vector<float> training = model.forward(batch, true);
            for (size_t row = 0; row < training.size(); ++row) {
                CAPTURE(row);
                CHECK(std::abs(inference[row] - training[row]) <=
                      tolerance * (1.0 + std::abs(training[row])));
            }
        };
        const std::vector<float> before = model.forward(batch, false);
        check_close(before);

        // Zero the first half of the first layer's neurons, as a neuron mask would.
        const recprune_tensor_t weight = model.tensor("mlp.0.weight");
        for (uint64_t i = 0; i < weight.element_count / 2; ++i) weight.data[i] = 0.0f;
        const std::vector<float> after = model.forward(batch, false);
        check_close(after);
        CHECK(model.forward(batch, false) == after);
        size_t changed = 0;
        for (size_t row = 0; row < before.size(); ++row) changed += before[row] != after[row];
        CHECK(changed == before.size());
    }
}

TEST_CASE("deep CTR models: inference copies follow weights across batch sizes") {
    // Top-K evaluation changes the batch size on almost every call. Twelve sizes overflow
    // each layer's cache of eight, so primitives are dropped and made again, while the
    // packed copies that batch sizes share must still follow every weight change.
    json params = small_params("sum");
    params["embedding_dim"] = 16;
    params["hidden_layers"] = {64, 32};
    ModelInstance model(plugin("deepfm"), params, make_schema(kFields, kDense), 53);
    randomize(model.tensors(), 0.5f, 54);
    const recprune_tensor_t weight = model.tensor("mlp.1.weight");
    for (uint64_t round = 0; round < 2; ++round) {
        for (uint64_t rows = 1; rows <= 12; ++rows) {
            CAPTURE(round);
            CAPTURE(rows);
            TestBatch batch = random_batch(kFields, kDense, rows * 5, 55 + rows);
            const std::vector<float> inference = model.forward(batch, false);
            const std::vector<float> training = model.forward(batch, true);
            for (size_t row = 0; row < training.size(); ++row) {
                CHECK(std::abs(inference[row] - training[row]) <=
                      1e-5 * (1.0 + std::abs(training[row])));
            }
            // A new value for one weight before the next size, as an optimizer step would.
            weight.data[rows % weight.element_count] += 0.25f;
        }
    }
}
