#include "prune/masks.hpp"
#include "prune/units.hpp"
#include "prune_fixtures.hpp"
#include "pruner_harness.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using recprune::prune::MaskSet;
using recprune::prune::UnitSet;
using recprune::prune::testing::FixtureContext;
using recprune::prune::testing::FixtureData;
using recprune::prune::testing::OwnedModel;
using recprune::prune::testing::PluginPruner;

/// Scores w = [2, -3, 0.5] with two calibration batches of gradients [1, 1, -2] and
/// [1, -1, 2], so the per-batch sensitivities w * g are [2, -3, -1] and [2, 3, 1].
std::vector<double> weight_scores(const std::string& pruner_name, const std::string& params,
                                  uint32_t* batches_run = nullptr) {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 3}, {2, -3, 0.5f});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, "{}");
    fixture.set_gradients([&](uint32_t batch) {
        // Assign from an initializer list, which writes into the storage the views point to.
        if (batch == 0) {
            model.tensors()[0].grad = {1, 1, -2};
        } else {
            model.tensors()[0].grad = {1, -1, 2};
        }
    });
    PluginPruner pruner(pruner_name, params);
    std::vector<double> scores = pruner.score(fixture.context());
    if (batches_run != nullptr) *batches_run = fixture.gradient_batches_run();
    return scores;
}

// Two fields feeding one dense layer: embedding.user [3, 2], embedding.item [2, 2] and
// mlp.w [1, 4] whose columns 0-1 read the user and 2-3 the item embedding.
constexpr const char* kFieldStructure = R"json({"fields": [
  {"field": 0, "name": "user", "slices": [
    {"tensor": "embedding.user", "axis": 0, "start": 0, "width": 3},
    {"tensor": "mlp.w", "axis": 1, "start": 0, "width": 2}]},
  {"field": 1, "name": "item", "slices": [
    {"tensor": "embedding.item", "axis": 0, "start": 0, "width": 2},
    {"tensor": "mlp.w", "axis": 1, "start": 2, "width": 2}]}]})json";

OwnedModel make_field_model() {
    OwnedModel model;
    model.add("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, {1, 2, 3, 4, 5, 6}, 0);
    model.add("embedding.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, {2, 2}, {1, 1, 2, 2}, 1);
    model.add("mlp.w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 4}, {1, 1, 1, 1});
    return model;
}

/// Sets data and gradients. The batch looks up user rows 0 and 2 and item row 1 twice. Rows the batch does not look up
/// (user row 1, item row 0) carry a large stale gradient that a pruner must ignore.
void set_field_gradients(OwnedModel& model, FixtureContext& fixture) {
    FixtureData data;
    data.field_names = {"user", "item"};
    data.vocabulary_sizes = {3, 2};
    data.ids = {{0, 2}, {1, 1}};
    data.labels = {1, 0};
    fixture.set_data(std::move(data));
    fixture.set_gradients([&model](uint32_t) {
        model.tensors()[0].grad = {0.5f, 0.5f, 100, 100, -1, 1};
        model.tensors()[1].grad = {9, 9, 0.25f, -0.5f};
        model.tensors()[2].grad = {7, 7, 7, 7};
    });
}

std::vector<double> field_scores(recprune_granularity_t granularity,
                                 const std::string& pruner_name, const std::string& params) {
    OwnedModel model = make_field_model();
    auto structure = boost::json::parse(kFieldStructure);
    UnitSet units = UnitSet::build(granularity, model.views(), structure);
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, kFieldStructure);
    set_field_gradients(model, fixture);
    PluginPruner pruner(pruner_name, params);
    return pruner.score(fixture.context());
}

// One layer of 2 neurons: w = [[3, 4], [1, 0]], bias = [0, 0], next = [[0, 2]].
constexpr const char* kNeuronStructure = R"json({"neurons": [{"layer": "l0", "count": 2,
  "slices": [{"tensor": "w", "axis": 0, "start": 0, "step": 1, "width": 1},
             {"tensor": "bias", "axis": 0, "start": 0, "step": 1, "width": 1},
             {"tensor": "next", "axis": 1, "start": 0, "step": 1, "width": 1}]}]})json";

/// Neuron sensitivities are [3, 2] in batch 0 and [-3, -2] in batch 1: the gradients are
/// w.g = [1, 0, 0, 1], bias.g = [1, 1], next.g = [1, 1], negated in batch 1.
std::vector<double> neuron_scores(const std::string& pruner_name, const std::string& params) {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {3, 4, 1, 0});
    model.add("bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0, 0});
    model.add("next", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 2}, {0, 2});
    auto structure = boost::json::parse(kNeuronStructure);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, kNeuronStructure);
    fixture.set_gradients([&model](uint32_t batch) {
        float sign = batch == 0 ? 1.0f : -1.0f;
        model.tensors()[0].grad = {sign, 0, 0, sign};
        model.tensors()[1].grad = {sign, sign};
        model.tensors()[2].grad = {sign, sign};
    });
    PluginPruner pruner(pruner_name, params);
    return pruner.score(fixture.context());
}

}  // namespace

TEST_CASE("snip pruner: scores |w * g| summed over calibration batches") {
    uint32_t batches_run = 0;
    std::vector<double> scores =
        weight_scores("snip", R"({"calibration_batches": 2})", &batches_run);

    // |2 + 2| = 4, |-3 + 3| = 0, |-1 + 1| = 0.
    CHECK(scores == std::vector<double>{4, 0, 0});
    CHECK(batches_run == 2);
}

TEST_CASE("snip pruner: other accumulations of the batch sensitivities") {
    std::vector<double> absolute =
        weight_scores("snip", R"({"calibration_batches": 2, "accumulation": "absolute_sum"})");
    std::vector<double> squared =
        weight_scores("snip", R"({"calibration_batches": 2, "accumulation": "squared_mean"})");

    // Sum of |s_b|: 2 + 2, 3 + 3, 1 + 1. Mean of s_b^2: (4 + 4) / 2, (9 + 9) / 2, (1 + 1) / 2.
    CHECK(absolute == std::vector<double>{4, 6, 2});
    CHECK(squared == std::vector<double>{4, 9, 1});
}

TEST_CASE("snip pruner: field gate covers every slice of the field") {
    std::vector<double> scores = field_scores(RECPRUNE_GRANULARITY_FIELD, "snip",
                                              R"({"granularity": "field", "calibration_batches": 1})");

    // user: rows 0 and 2 give 1*0.5 + 2*0.5 + 5*-1 + 6*1 = 2.5, columns 0-1 of mlp.w 7 + 7.
    // item: row 1 gives 2*0.25 + 2*-0.5 = -0.5, columns 2-3 of mlp.w 14: |13.5|.
    CHECK(scores == std::vector<double>{16.5, 13.5});
}

TEST_CASE("taylor pruner: averages the squared neuron sensitivity") {
    std::vector<double> taylor = neuron_scores("taylor", R"({"calibration_batches": 2})");
    std::vector<double> snip =
        neuron_scores("snip", R"({"granularity": "neuron", "calibration_batches": 2})");

    // Neuron 0: 3*1 + 4*0 + 0*1 + 0*1 = 3; neuron 1: 1*0 + 0*1 + 0*1 + 2*1 = 2; batch 1 negates.
    // Taylor: (9 + 9) / 2 and (4 + 4) / 2. SNIP: |3 - 3| and |2 - 2| cancel.
    CHECK(taylor == std::vector<double>{9, 4});
    CHECK(snip == std::vector<double>{0, 0});
}

TEST_CASE("taylor pruner: declares neurons by default") {
    PluginPruner pruner("taylor", "{}");

    CHECK(pruner.info().granularity == RECPRUNE_GRANULARITY_NEURON);
    CHECK(pruner.info().per_tensor == 0);
}

TEST_CASE("field gradient pruner: field gate reads embedding tables only") {
    std::vector<double> scores = field_scores(RECPRUNE_GRANULARITY_FIELD, "field_gradient",
                                              R"({"calibration_batches": 1})");

    // user: 1*0.5 + 2*0.5 + 5*-1 + 6*1 = 2.5; item: |2*0.25 + 2*-0.5| = 0.5. The dense layer's
    // columns and the stale gradients of rows the batch did not look up are left out.
    CHECK(scores == std::vector<double>{2.5, 0.5});
}

TEST_CASE("field gradient pruner: per feature value gates") {
    std::vector<double> scores =
        field_scores(RECPRUNE_GRANULARITY_EMBEDDING_ROW, "field_gradient",
                     R"({"granularity": "embedding_row", "calibration_batches": 1})");

    // User rows 0, 1, 2: 1.5, 0 (not looked up), 1; item rows 0, 1: 0 (not looked up), 0.5.
    CHECK(scores == std::vector<double>{1.5, 0, 1, 0, 0.5});
}

TEST_CASE("field gradient pruner: rejects neuron granularity") {
    CHECK_THROWS_WITH(PluginPruner("field_gradient", R"({"granularity": "neuron"})"),
                      doctest::Contains("pick field or embedding_row"));
}

TEST_CASE("l1 norm pruner: neuron L1 norms, per layer by default") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {3, -4, 1, 0});
    model.add("bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0, 0});
    model.add("next", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 2}, {0, -2});
    auto structure = boost::json::parse(kNeuronStructure);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, kNeuronStructure);
    PluginPruner pruner("l1_norm", "{}");

    std::vector<double> scores = pruner.score(fixture.context());

    // |3| + |-4| = 7 and |1| + |-2| = 3.
    CHECK(scores == std::vector<double>{7, 3});
    CHECK(pruner.info().granularity == RECPRUNE_GRANULARITY_NEURON);
    CHECK(pruner.info().per_tensor == 1);
    CHECK_THROWS_WITH(PluginPruner("l1_norm", R"({"granularity": "weight"})"),
                      doctest::Contains("use the magnitude pruner"));
}
