#include "prune/masks.hpp"
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

// One layer of 2 neurons: w = [[3, 4], [1, 0]], bias = [0, 0], next = [[0, 2]].
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

}  // namespace

TEST_CASE("regularizer pruner: L1 adds strength times the sign") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 3}, {0.5f, -2, 0});
    model.add("b", RECPRUNE_TENSOR_ROLE_BIAS, {1}, {1});
    model.tensors()[0].grad = {1, 1, 1};
    PluginPruner pruner("regularizer", R"({"strength": 0.25})");

    pruner.regularize(model.views(), "{}");

    // 1 + 0.25, 1 - 0.25, and 1 + 0 for the weight at zero; the bias is not penalised.
    CHECK(model.tensors()[0].grad == std::vector<float>{1.25f, 0.75f, 1.0f});
    CHECK(model.tensors()[1].grad == std::vector<float>{0.0f});
    CHECK(pruner.info().has_regularizer == 1);
    CHECK(pruner.info().granularity == RECPRUNE_GRANULARITY_WEIGHT);
}

TEST_CASE("regularizer pruner: group lasso shrinks each neuron along its weights") {
    OwnedModel model = make_neuron_model();
    PluginPruner pruner("regularizer", R"({"penalty": "group_lasso", "strength": 0.5})");

    pruner.regularize(model.views(), kNeuronStructure);

    // Neuron 0 couples 3, 4, 0, 0: norm 5, 4 weights, factor 0.5 * 2 / 5 = 0.2.
    // Neuron 1 couples 1, 0, 0, 2: norm sqrt(5), factor 0.5 * 2 / sqrt(5) = 0.447214.
    double factor1 = 1.0 / std::sqrt(5.0);
    const auto& w = model.tensors()[0].grad;
    const auto& next = model.tensors()[2].grad;
    CHECK(w[0] == doctest::Approx(0.6));
    CHECK(w[1] == doctest::Approx(0.8));
    CHECK(w[2] == doctest::Approx(factor1));
    CHECK(w[3] == 0.0f);
    CHECK(model.tensors()[1].grad == std::vector<float>{0, 0});
    CHECK(next[0] == 0.0f);
    CHECK(next[1] == doctest::Approx(2 * factor1));
    CHECK(pruner.info().granularity == RECPRUNE_GRANULARITY_NEURON);
}

TEST_CASE("regularizer pruner: thresholds by the unit norm") {
    OwnedModel model = make_neuron_model();
    auto structure = boost::json::parse(kNeuronStructure);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, kNeuronStructure);
    PluginPruner pruner("regularizer", R"({"penalty": "group_lasso"})");

    std::vector<double> scores = pruner.score(fixture.context());

    // L2 norms 5 and sqrt(5).
    CHECK(scores[0] == doctest::Approx(5.0));
    CHECK(scores[1] == doctest::Approx(std::sqrt(5.0)));
}

TEST_CASE("regularizer pruner: negative strength is rejected") {
    CHECK_THROWS_WITH(PluginPruner("regularizer", R"({"strength": -1})"),
                      doctest::Contains("is not a finite number >= 0"));
}
