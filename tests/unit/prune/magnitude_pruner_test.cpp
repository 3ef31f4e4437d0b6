#include "prune/masks.hpp"
#include "prune/selection.hpp"
#include "prune/units.hpp"
#include "prune_fixtures.hpp"
#include "pruner_harness.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using recprune::prune::MaskSet;
using recprune::prune::UnitSet;
using recprune::prune::testing::FixtureContext;
using recprune::prune::testing::OwnedModel;
using recprune::prune::testing::PluginPruner;

// One layer of 2 neurons over 2 inputs and the next layer's 2 columns:
// w = [[3, 4], [1, 0]], bias = [0, 0], next = [[0, 2]]. Neuron 0 couples 3, 4, 0, 0;
// neuron 1 couples 1, 0, 0, 2.
constexpr const char* kNeuronStructure = R"json({"neurons": [{"layer": "l0", "count": 2,
  "slices": [{"tensor": "w", "axis": 0, "start": 0, "step": 1, "width": 1},
             {"tensor": "bias", "axis": 0, "start": 0, "step": 1, "width": 1},
             {"tensor": "next", "axis": 1, "start": 0, "step": 1, "width": 1}]}]})json";

OwnedModel make_neuron_model() {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {3, 4, 1, 0});
    model.add("bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0, 0});
    model.add("next", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 2}, {0, 2});
    return model;
}

std::vector<double> neuron_scores(const std::string& params) {
    OwnedModel model = make_neuron_model();
    auto structure = boost::json::parse(kNeuronStructure);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, kNeuronStructure);
    PluginPruner pruner("magnitude", params);
    return pruner.score(fixture.context());
}

}  // namespace

TEST_CASE("magnitude pruner: weight scores are absolute values") {
    // Layer A [[0.1, -0.2], [0.3, -0.4]], layer B [[1, -2, 3], [-4, 5, -6]], biases aside.
    OwnedModel model;
    model.add("a.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {0.1f, -0.2f, 0.3f, -0.4f});
    model.add("a.bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0.05f, 0.05f});
    model.add("b.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 3}, {1, -2, 3, -4, 5, -6});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, "{}");
    PluginPruner pruner("magnitude", "{}");

    std::vector<double> scores = pruner.score(fixture.context());
    auto selection = recprune::prune::select_units(units, scores, 0.5, false, masks);

    std::vector<double> expected{0.1f, 0.2f, 0.3f, 0.4f, 1, 2, 3, 4, 5, 6};
    CHECK(scores == expected);
    // The 5 smallest: all of layer A and the 1 of layer B.
    CHECK(selection.units == std::vector<uint64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("magnitude pruner: neuron norms cover every coupled slice") {
    std::vector<double> l2 = neuron_scores(R"({"granularity": "neuron"})");
    std::vector<double> l1 = neuron_scores(R"({"granularity": "neuron", "norm": "l1"})");

    // L2: sqrt(9 + 16) = 5 and sqrt(1 + 4) = 2.236068; L1: 3 + 4 = 7 and 1 + 2 = 3.
    REQUIRE(l2.size() == 2);
    CHECK(l2[0] == doctest::Approx(5.0));
    CHECK(l2[1] == doctest::Approx(std::sqrt(5.0)));
    CHECK(l1[0] == doctest::Approx(7.0));
    CHECK(l1[1] == doctest::Approx(3.0));
}

TEST_CASE("magnitude pruner: size normalisation divides by the element count") {
    std::vector<double> l2 =
        neuron_scores(R"({"granularity": "neuron", "normalize_by_size": true})");
    std::vector<double> l1 =
        neuron_scores(R"({"granularity": "neuron", "norm": "l1", "normalize_by_size": true})");

    // Each neuron couples 4 elements: L2 / sqrt(4), L1 / 4.
    CHECK(l2[0] == doctest::Approx(2.5));
    CHECK(l2[1] == doctest::Approx(std::sqrt(5.0) / 2.0));
    CHECK(l1[0] == doctest::Approx(1.75));
    CHECK(l1[1] == doctest::Approx(0.75));
}

TEST_CASE("magnitude pruner: embedding rows and fields score by their norms") {
    OwnedModel model;
    model.add("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, {0, 0, 3, 4, 1, 0}, 0);
    model.add("embedding.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, {2, 2}, {1, 1, 1, 1}, 1);
    constexpr const char* structure = R"json({"fields": [
      {"field": 0, "name": "user", "slices": [
        {"tensor": "embedding.user", "axis": 0, "start": 0, "width": 3}]},
      {"field": 1, "name": "item", "slices": [
        {"tensor": "embedding.item", "axis": 0, "start": 0, "width": 2}]}]})json";
    auto parsed = boost::json::parse(structure);
    UnitSet rows = UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_ROW, model.views(), parsed);
    UnitSet fields = UnitSet::build(RECPRUNE_GRANULARITY_FIELD, model.views(), parsed);
    MaskSet masks(model.views());
    FixtureContext row_fixture(model, rows, masks, structure);
    FixtureContext field_fixture(model, fields, masks, structure);
    PluginPruner row_pruner("magnitude", R"({"granularity": "embedding_row"})");
    PluginPruner field_pruner("magnitude", R"({"granularity": "field", "norm": "l1"})");

    std::vector<double> row_scores = row_pruner.score(row_fixture.context());
    std::vector<double> field_scores = field_pruner.score(field_fixture.context());

    // Rows: user [0, 0] -> 0, [3, 4] -> 5, [1, 0] -> 1; item [1, 1] -> sqrt(2) twice.
    REQUIRE(row_scores.size() == 5);
    CHECK(row_scores[0] == 0.0);
    CHECK(row_scores[1] == doctest::Approx(5.0));
    CHECK(row_scores[2] == doctest::Approx(1.0));
    CHECK(row_scores[3] == doctest::Approx(std::sqrt(2.0)));
    // Fields, L1: user 3 + 4 + 1 = 8, item 4.
    CHECK(field_scores == std::vector<double>{8.0, 4.0});
}

TEST_CASE("magnitude pruner: NaN weight fails the score call") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 2}, {1, NAN});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, "{}");
    PluginPruner pruner("magnitude", "{}");

    CHECK_THROWS_WITH(pruner.score(fixture.context()), doctest::Contains("unit 1 has a NaN score"));
}

TEST_CASE("magnitude pruner: unknown norm is rejected") {
    CHECK_THROWS_WITH(PluginPruner("magnitude", R"({"norm": "l3"})"),
                      doctest::Contains("\"l3\" is not one of l1, l2"));
}
