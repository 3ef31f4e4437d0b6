// DCN, NeuMF and biased MF plugins, driven through the C ABI.
#include "model_checks.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace recprune::test;

// A genre field between user and item checks that NeuMF and MF find their fields by role.
const std::vector<TestField> kFields = {
    {"user", 7, false, "user"}, {"genre", 5, true}, {"item", 6, false, "item"}};
constexpr uint32_t kDense = 2;

ModelPlugin& plugin(const std::string& name) {
    static ModelPlugin dcn("dcn");
    static ModelPlugin neumf("neumf");
    static ModelPlugin mf("mf");
    if (name == "dcn") return dcn;
    return name == "neumf" ? neumf : mf;
}

json small_params(const std::string& name) {
    if (name == "dcn") {
        return {{"embedding_dim", 4}, {"cross_layers", 2}, {"hidden_layers", {8, 6}},
                {"pooling", "mean"}, {"precision", "f32"}};
    }
    if (name == "neumf") {
        return {{"embedding_dim", 4}, {"mlp_embedding_dim", 4}, {"hidden_layers", {8, 6}},
                {"precision", "f32"}};
    }
    return {{"embedding_dim", 4}, {"global_bias", 3.5}};
}

}  // namespace

TEST_CASE("user-item and cross models: gradients match central differences") {
    for (const std::string name : {"dcn", "neumf", "mf"}) {
        CAPTURE(name);
        ModelInstance model(plugin(name), small_params(name), make_schema(kFields, kDense), 51);
        randomize(model.tensors(), 0.5f, 52);
        TestBatch batch = random_batch(kFields, kDense, 8, 53);

        check_gradients(model, batch, 54);
    }
}

TEST_CASE("user-item and cross models: compacted model predicts like the masked one") {
    struct Case {
        std::string name;
        PrunePlan plan;
    };
    std::vector<Case> cases(5);
    cases[0].name = "dcn";
    cases[0].plan.removed_fields = {1};
    cases[0].plan.kept_dims = {0, 3};
    cases[0].plan.kept_neurons["mlp.0"] = {1, 2, 5};
    cases[0].plan.kept_neurons["mlp.1"] = {0, 3, 4};
    cases[0].plan.row_remap[0] = {0, 1, 0, 2, 3, 0, 4};
    cases[1].name = "neumf";
    cases[1].plan.kept_dims = {1, 2, 3};
    cases[1].plan.kept_neurons["mlp.1"] = {0, 5};
    cases[1].plan.row_remap[2] = {0, 0, 1, 2, 0, 3};
    cases[2].name = "neumf";  // without the item, the GMF tower disappears
    cases[2].plan.removed_fields = {2};
    cases[2].plan.kept_neurons["mlp.0"] = {0, 1, 2, 3};
    cases[3].name = "mf";
    cases[3].plan.kept_dims = {0, 2};
    cases[3].plan.row_remap[0] = {0, 1, 0, 2, 3, 0, 4};
    cases[4].name = "mf";  // without the item, only the user bias is left
    cases[4].plan.removed_fields = {2};
    for (const Case& test : cases) {
        CAPTURE(test.name);
        ModelInstance model(plugin(test.name), small_params(test.name),
                            make_schema(kFields, kDense), 55);
        randomize(model.tensors(), 0.5f, 56);
        TestBatch batch = random_batch(kFields, kDense, 64, 57);

        // oneDNN may order the sums of inner products of other shapes differently, so the two
        // models agree to f32 rounding of sums of a few dozen terms below 10: 1e-5 relative.
        check_compaction(model, plugin(test.name), test.plan, batch, 1e-5);
    }
}

TEST_CASE("user-item and cross models: save and load keep predictions") {
    for (const std::string name : {"dcn", "neumf", "mf"}) {
        CAPTURE(name);
        ModelInstance model(plugin(name), small_params(name), make_schema(kFields, kDense), 58);
        TestBatch batch = random_batch(kFields, kDense, 8, 59);

        check_save_load(model, plugin(name), batch, "recprune_" + name + ".bin");
    }
}

TEST_CASE("mf: predicts mu + b_u + b_i + p_u . q_i") {
    ModelInstance model(plugin("mf"), {{"embedding_dim", 2}}, make_schema(kFields, 0, "rating"),
                        60);
    model.tensor("global_bias").data[0] = 3.5f;
    model.tensor("bias.user").data[3] = 0.25f;
    model.tensor("bias.item").data[4] = -0.5f;
    float* p = model.tensor("embedding.user").data + 3 * 2;
    float* q = model.tensor("embedding.item").data + 4 * 2;
    p[0] = 1.0f;
    p[1] = 2.0f;
    q[0] = 0.5f;
    q[1] = -0.125f;
    TestBatch batch;
    batch.rows = 1;
    batch.ids = {{3}, {}, {4}};
    batch.offsets = {{}, {0, 0}, {}};

    const std::vector<float> prediction = model.forward(batch, false);

    // 3.5 + 0.25 - 0.5 + (1 x 0.5 + 2 x -0.125) = 3.5, by hand.
    CHECK(prediction[0] == doctest::Approx(3.5).epsilon(1e-7));
}

TEST_CASE("mf: rejects a schema without a user field") {
    const std::vector<TestField> fields = {{"movie", 4, false, "item"}};

    CHECK_THROWS_WITH(ModelInstance(plugin("mf"), json::object(), make_schema(fields, 0), 1),
                      doctest::Contains("no field has the role user"));
}

TEST_CASE("neumf: structure couples GMF and MLP dimensions") {
    ModelInstance model(plugin("neumf"), small_params("neumf"), make_schema(kFields, kDense), 61);

    const json structure = model.structure();

    REQUIRE(structure["fields"].size() == 2);
    CHECK(structure["fields"][0]["field"] == 0);
    CHECK(structure["fields"][1]["field"] == 2);
    CHECK(structure["embedding_dims"]["count"] == 4);
    // Per side: the GMF table, the MLP table and a column of mlp.0; plus the GMF part of the
    // output layer.
    CHECK(structure["embedding_dims"]["slices"].size() == 7);
    REQUIRE(structure["neurons"].size() == 2);
    CHECK(structure["neurons"][1]["slices"][2] ==
          json({{"tensor", "output.0.weight"}, {"axis", 1}, {"start", 4}, {"step", 1},
                {"width", 1}}));
}

TEST_CASE("neumf: differing tower widths have no dimension family") {
    json params = small_params("neumf");
    params["mlp_embedding_dim"] = 8;
    ModelInstance model(plugin("neumf"), params, make_schema(kFields, kDense), 62);

    CHECK_FALSE(model.structure().contains("embedding_dims"));
}

TEST_CASE("dcn: structure lists cross weights and biases of each field") {
    ModelInstance model(plugin("dcn"), small_params("dcn"), make_schema(kFields, kDense), 63);

    const json structure = model.structure();

    // Table, mlp.0, two cross weights, the output layer, two cross biases.
    CHECK(structure["fields"][2]["slices"].size() == 7);
    CHECK(structure["fields"][2]["slices"][5] ==
          json({{"tensor", "cross.0.bias"}, {"axis", 0}, {"start", 8}, {"width", 4}}));
    CHECK(structure["neurons"][1]["slices"][2]["start"] == 14);  // 3 fields x 4 + 2 dense
}
