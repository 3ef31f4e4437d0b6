#include "prune/masks.hpp"
#include "prune/selection.hpp"
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
using recprune::prune::testing::OwnedModel;
using recprune::prune::testing::PluginPruner;

std::vector<double> random_scores(uint64_t weight_count, uint64_t seed) {
    OwnedModel model;
    model.add_counting("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, weight_count});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, "{}");
    PluginPruner pruner("random", "{}", seed);
    return pruner.score(fixture.context());
}

}  // namespace

TEST_CASE("random pruner: scores are uniform between 0 and 1") {
    std::vector<double> scores = random_scores(10000, 7);

    double sum = 0.0;
    int outside = 0;
    for (double score : scores) {
        if (score < 0.0 || score >= 1.0) ++outside;
        sum += score;
    }
    CHECK(outside == 0);
    // The mean of 10000 uniform draws has standard deviation 0.2887 / 100; 0.015 is 5 of them.
    CHECK(sum / 10000.0 == doctest::Approx(0.5).epsilon(0.03));
}

TEST_CASE("random pruner: same seed gives same scores") {
    std::vector<double> first = random_scores(100, 42);
    std::vector<double> second = random_scores(100, 42);
    std::vector<double> other_seed = random_scores(100, 43);

    CHECK(first == second);
    CHECK(first != other_seed);
}

TEST_CASE("random pruner: a unit's score does not depend on the unit count") {
    std::vector<double> short_run = random_scores(10, 5);
    std::vector<double> long_run = random_scores(50, 5);

    // Each score derives from the seed and the unit index only.
    for (size_t unit = 0; unit < short_run.size(); ++unit) {
        CHECK(short_run[unit] == long_run[unit]);
    }
}

TEST_CASE("random pruner: declares the granularity and scope it is given") {
    PluginPruner neuron("random", R"({"granularity": "neuron", "scope": "per_tensor"})");
    PluginPruner defaults("random", "{}");

    CHECK(neuron.info().granularity == RECPRUNE_GRANULARITY_NEURON);
    CHECK(neuron.info().per_tensor == 1);
    CHECK(defaults.info().granularity == RECPRUNE_GRANULARITY_WEIGHT);
    CHECK(defaults.info().per_tensor == 0);
    CHECK(defaults.info().has_regularizer == 0);
}

TEST_CASE("random pruner: unknown granularity is rejected with the choices") {
    CHECK_THROWS_WITH(PluginPruner("random", R"({"granularity": "channel"})"),
                      doctest::Contains("\"channel\" is not one of weight, neuron"));
}

TEST_CASE("random pruner: selection reaches the target on its scores") {
    OwnedModel model;
    model.add_counting("a", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {4, 5});
    model.add_counting("b", RECPRUNE_TENSOR_ROLE_EMBEDDING, {10, 3}, 0);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, "{}");
    PluginPruner pruner("random", "{}", 3);

    auto selection = recprune::prune::select_units(units, pruner.score(fixture.context()), 0.6,
                                                   false, masks);

    // round(0.6 * 50) = 30.
    CHECK(selection.units.size() == 30);
    CHECK(selection.target_reached);
}
