// Logistic regression and factorization machine plugins, driven through the C ABI.
#include "model_checks.hpp"

#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace recprune::test;

const std::vector<TestField> kFields = {
    {"user", 7, false, "user"}, {"genre", 5, true, ""}, {"city", 4, false, ""}};
constexpr uint32_t kDense = 2;

ModelPlugin& logistic_regression() {
    static ModelPlugin plugin("logistic_regression");
    return plugin;
}

ModelPlugin& fm() {
    static ModelPlugin plugin("fm");
    return plugin;
}

void set_values(const recprune_tensor_t& tensor, const std::vector<float>& values) {
    REQUIRE(tensor.element_count == values.size());
    std::copy(values.begin(), values.end(), tensor.data);
}

}  // namespace

TEST_CASE("logistic regression: dense inputs give the B20 probability") {
    // w = [0.5, -0.25], b = 0.1, x = [2, 4]: z = 1 - 1 + 0.1 = 0.1 and sigmoid(0.1) = 0.524979
    // (worked by hand in the shared case list, B20). The one field has a zero weight.
    ModelInstance model(logistic_regression(), json::object(),
                        make_schema({{"unused", 1}}, 2), 1);
    set_values(model.tensor("linear.unused"), {0.0f});
    set_values(model.tensor("linear.dense"), {0.5f, -0.25f});
    set_values(model.tensor("linear.bias"), {0.1f});
    TestBatch batch;
    batch.rows = 1;
    batch.ids = {{0}};
    batch.offsets = {{}};
    batch.dense_count = 2;
    batch.dense = {2.0f, 4.0f};

    const std::vector<float> logits = model.forward(batch, false);

    CHECK(logits[0] == doctest::Approx(0.1).epsilon(1e-6));
    CHECK(sigmoid(logits[0]) == doctest::Approx(0.524979).epsilon(1e-6));
}

TEST_CASE("logistic regression: field weights give the B20 probability") {
    // The same z = 0.1 with x as counts of a feature value: field a holds value 1 twice
    // (sum pooling, weight 0.5), field b holds value 1 four times (weight -0.25). A third,
    // single-valued encoding puts w_i * x_i in the rows directly (1.0 and -1.0).
    ModelInstance model(logistic_regression(), {{"pooling", "sum"}},
                        make_schema({{"a", 2, true}, {"b", 2, true}, {"c", 3}, {"d", 3}}, 0), 1);
    set_values(model.tensor("linear.a"), {0.0f, 0.5f});
    set_values(model.tensor("linear.b"), {0.0f, -0.25f});
    set_values(model.tensor("linear.c"), {0.0f, 1.0f, 0.0f});
    set_values(model.tensor("linear.d"), {0.0f, 0.0f, -1.0f});
    set_values(model.tensor("linear.bias"), {0.1f});
    TestBatch batch;
    batch.rows = 2;
    // Row 0 uses the multi-hot fields (c and d at their zero row 0); row 1 the single-valued
    // ones (a and b empty).
    batch.ids = {{1, 1}, {1, 1, 1, 1}, {0, 1}, {0, 2}};
    batch.offsets = {{0, 2, 2}, {0, 4, 4}, {}, {}};

    const std::vector<float> logits = model.forward(batch, false);

    CHECK(sigmoid(logits[0]) == doctest::Approx(0.524979).epsilon(1e-6));
    CHECK(sigmoid(logits[1]) == doctest::Approx(0.524979).epsilon(1e-6));
}

TEST_CASE("logistic regression: gradients match central differences") {
    for (const char* pooling : {"sum", "mean"}) {
        CAPTURE(std::string(pooling));
        ModelInstance model(logistic_regression(), {{"pooling", pooling}},
                            make_schema(kFields, kDense), 3);
        randomize(model.tensors(), 0.5f, 4);
        TestBatch batch = random_batch(kFields, kDense, 8, 5);

        check_gradients(model, batch, 6);
    }
}

TEST_CASE("logistic regression: touched rows are the batch ids in ascending order") {
    // A small table lists its rows by reading every mark, and a large table touched in a few
    // rows sorts its list. Both must give each id once, ascending, and clear their marks for
    // the next batch.
    const std::vector<TestField> fields = {
        {"user", 7, false, "user"}, {"genre", 5, true, ""}, {"city", 1000, false, ""}};
    ModelInstance model(logistic_regression(), json::object(), make_schema(fields, kDense), 3);
    for (uint64_t seed : {7, 8}) {
        CAPTURE(seed);
        TestBatch batch = random_batch(fields, kDense, 6, seed);
        batch.ids[2] = {900, 3, 512, 3, 900, 512};  // 3 of 1000 rows: the sorting branch
        model.forward(batch, true);

        model.backward(batch, std::vector<float>(6, 1.0f));

        for (uint32_t f = 0; f < fields.size(); ++f) {
            CAPTURE(fields[f].name);
            const uint32_t index = model.tensor_index("linear." + fields[f].name);
            std::vector<uint32_t> expected = batch.ids[f];
            std::sort(expected.begin(), expected.end());
            expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
            CHECK(model.touched_rows(index) == expected);
        }
    }
}

TEST_CASE("logistic regression: structure lists each field's table") {
    ModelInstance model(logistic_regression(), json::object(), make_schema(kFields, kDense), 3);

    const json structure = model.structure();

    REQUIRE(structure["fields"].size() == 3);
    CHECK(structure["fields"][1]["name"] == "genre");
    CHECK(structure["fields"][1]["slices"][0] ==
          json({{"tensor", "linear.genre"}, {"axis", 0}, {"start", 0}, {"width", 5}}));
    CHECK_FALSE(structure.contains("embedding_dims"));
    CHECK_FALSE(structure.contains("neurons"));
}

TEST_CASE("logistic regression: compacted model predicts like the masked one") {
    ModelInstance model(logistic_regression(), json::object(), make_schema(kFields, kDense), 3);
    randomize(model.tensors(), 0.5f, 8);
    TestBatch batch = random_batch(kFields, kDense, 32, 9);
    PrunePlan plan;
    plan.removed_fields = {2};
    plan.row_remap[0] = {0, 1, 2, 0, 3, 0, 4};

    // Removing zero terms from a sum leaves the f32 result unchanged, so equality is exact.
    check_compaction(model, logistic_regression(), plan, batch, 0.0);
}

TEST_CASE("logistic regression: save and load keep predictions") {
    ModelInstance model(logistic_regression(), json::object(), make_schema(kFields, kDense), 3);
    TestBatch batch = random_batch(kFields, kDense, 8, 10);

    check_save_load(model, logistic_regression(), batch, "recprune_lr_save_test.bin");
}

TEST_CASE("logistic regression: rejects an id outside the vocabulary") {
    ModelInstance model(logistic_regression(), json::object(), make_schema(kFields, kDense), 3);
    TestBatch batch = random_batch(kFields, kDense, 2, 11);
    batch.ids[0][1] = 7;

    CHECK_THROWS_WITH(model.forward(batch, false),
                      doctest::Contains("id 7 at row 1 is outside the table of 7 rows"));
}

TEST_CASE("fm: pairwise term equals the sum over pairs of Rendle's eq. 1") {
    // A second implementation: sum_{i<j} <v_i, v_j> x_i x_j over the active features, written
    // directly from the definition, against the plugin's O(kn) form.
    const std::vector<TestField> fields = {{"a", 4}, {"b", 3, true}, {"c", 5}};
    ModelInstance model(fm(), {{"embedding_dim", 3}, {"pooling", "mean"}},
                        make_schema(fields, 1), 12);
    randomize(model.tensors(), 0.5f, 13);
    TestBatch batch;
    batch.rows = 1;
    batch.ids = {{2}, {0, 2}, {4}};
    batch.offsets = {{}, {0, 2}, {}};
    batch.dense_count = 1;
    batch.dense = {0.75f};

    struct Feature {
        const float* v;
        double x;
        double w;
    };
    const recprune_tensor_t va = model.tensor("embedding.a");
    const recprune_tensor_t vb = model.tensor("embedding.b");
    const recprune_tensor_t vc = model.tensor("embedding.c");
    const recprune_tensor_t vd = model.tensor("embedding.dense");
    std::vector<float> dense_factor = {vd.data[0], vd.data[1], vd.data[2]};
    const std::vector<Feature> features = {
        {va.data + 2 * 3, 1.0, model.tensor("linear.a").data[2]},
        {vb.data + 0 * 3, 0.5, model.tensor("linear.b").data[0]},
        {vb.data + 2 * 3, 0.5, model.tensor("linear.b").data[2]},
        {vc.data + 4 * 3, 1.0, model.tensor("linear.c").data[4]},
        {dense_factor.data(), 0.75, model.tensor("linear.dense").data[0]}};
    double expected = model.tensor("linear.bias").data[0];
    for (size_t i = 0; i < features.size(); ++i) {
        expected += features[i].w * features[i].x;
        for (size_t j = i + 1; j < features.size(); ++j) {
            double dot = 0.0;
            for (int d = 0; d < 3; ++d) dot += features[i].v[d] * features[j].v[d];
            expected += dot * features[i].x * features[j].x;
        }
    }

    const std::vector<float> logits = model.forward(batch, false);

    // f32 sums of about ten terms of magnitude below 1: a few ulp, well under 1e-6.
    CHECK(logits[0] == doctest::Approx(expected).epsilon(1e-6));
}

TEST_CASE("fm: gradients match central differences") {
    for (const char* pooling : {"sum", "mean"}) {
        CAPTURE(std::string(pooling));
        ModelInstance model(fm(), {{"embedding_dim", 4}, {"pooling", pooling}},
                            make_schema(kFields, kDense), 14);
        randomize(model.tensors(), 0.5f, 15);
        TestBatch batch = random_batch(kFields, kDense, 8, 16);

        check_gradients(model, batch, 17);
    }
}

TEST_CASE("fm: structure couples each dimension across fields") {
    ModelInstance model(fm(), {{"embedding_dim", 4}}, make_schema(kFields, kDense), 14);

    const json structure = model.structure();

    CHECK(structure["embedding_dims"]["count"] == 4);
    CHECK(structure["embedding_dims"]["slices"].size() == 4);  // 3 fields + dense factors
    CHECK(structure["fields"][0]["slices"].size() == 2);
    CHECK(structure["fields"][0]["slices"][0]["tensor"] == "embedding.user");
}

TEST_CASE("fm: compacted model predicts like the masked one") {
    ModelInstance model(fm(), {{"embedding_dim", 4}, {"pooling", "mean"}},
                        make_schema(kFields, kDense), 18);
    randomize(model.tensors(), 0.5f, 19);
    TestBatch batch = random_batch(kFields, kDense, 32, 20);
    PrunePlan plan;
    plan.removed_fields = {2};
    plan.kept_dims = {0, 2, 3};
    plan.row_remap[0] = {0, 1, 2, 0, 3, 0, 4};

    // The compacted model adds the same nonzero terms in the same order; the masked one adds
    // exact zeros in between, which do not change an f32 sum.
    check_compaction(model, fm(), plan, batch, 0.0);
}

TEST_CASE("fm: save and load keep predictions") {
    ModelInstance model(fm(), {{"embedding_dim", 4}}, make_schema(kFields, kDense), 21);
    TestBatch batch = random_batch(kFields, kDense, 8, 22);

    check_save_load(model, fm(), batch, "recprune_fm_save_test.bin");
}

TEST_CASE("fm: cost counts parameters and FLOPs") {
    ModelInstance model(fm(), {{"embedding_dim", 4}}, make_schema(kFields, kDense), 21);

    const recprune_model_cost_t cost = model.cost();

    // Tables: (7 + 5 + 4) rows x (1 + 4) columns = 80; dense: 2 + 4 x 2 = 10; bias 1.
    CHECK(cost.parameter_count == 91);
    CHECK(cost.nonzero_parameter_count == 90);  // every value but the zero bias
    // 3 fields + 2 x 2 dense + 3 x 4 x (3 + 2) + 3 x 4, from the formula in the plugin.
    CHECK(cost.flops_per_sample_dense == 79.0);
}

TEST_CASE("fm: results do not depend on the thread count") {
    // 1024 rows x 3 fields x 16 dims is above the size at which the embedding bags split
    // across OpenMP threads, so the two runs take different paths through the same bags.
    const int saved_threads = omp_get_max_threads();
    std::vector<std::vector<float>> logits(2);
    std::vector<std::vector<std::vector<float>>> grads(2);
    for (int threads = 1; threads <= 2; ++threads) {
        omp_set_num_threads(threads);
        ModelInstance model(fm(), {{"embedding_dim", 16}, {"pooling", "mean"}},
                            make_schema(kFields, kDense), 23);
        randomize(model.tensors(), 0.5f, 24);
        TestBatch batch = random_batch(kFields, kDense, 1024, 25);
        logits[threads - 1] = model.forward(batch, true);
        model.backward(batch, logits[threads - 1]);
        const std::vector<recprune_tensor_t> tensors = model.tensors();
        for (uint32_t t = 0; t < tensors.size(); ++t) {
            std::vector<float> grad;
            if (tensors[t].role == RECPRUNE_TENSOR_ROLE_EMBEDDING) {
                const uint64_t columns = tensors[t].shape[1];
                std::vector<uint32_t> rows = model.touched_rows(t);
                std::sort(rows.begin(), rows.end());
                for (uint32_t row : rows) {
                    grad.insert(grad.end(), tensors[t].grad + row * columns,
                                tensors[t].grad + (row + 1) * columns);
                }
            } else {
                grad.assign(tensors[t].grad, tensors[t].grad + tensors[t].element_count);
            }
            grads[threads - 1].push_back(grad);
        }
    }
    omp_set_num_threads(saved_threads);

    CHECK(logits[0] == logits[1]);
    REQUIRE(grads[0].size() == grads[1].size());
    for (size_t t = 0; t < grads[0].size(); ++t) {
        CAPTURE(t);
        CHECK(grads[0][t] == grads[1][t]);
    }
}
