#include "prune/selection.hpp"

#include "core/errors.hpp"
#include "prune/masks.hpp"
#include "prune/units.hpp"
#include "prune_fixtures.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace {

using recprune::prune::MaskSet;
using recprune::prune::Selection;
using recprune::prune::UnitSet;
using recprune::prune::count_to_prune;
using recprune::prune::select_units;
using recprune::prune::testing::OwnedModel;

/// Returns |w| of every unit of a WEIGHT unit set, the scores of global magnitude pruning.
std::vector<double> magnitudes(OwnedModel& model, const UnitSet& units) {
    std::vector<double> scores(units.size());
    const auto& views = model.views();
    for (uint64_t unit = 0; unit < units.size(); ++unit) {
        units.for_each_element(unit, [&](uint32_t tensor, uint64_t element) {
            scores[unit] = std::fabs(views[tensor].data[element]);
        });
    }
    return scores;
}

/// Builds one dense layer of `count` weights with |w| = 1..count.
OwnedModel make_layer(uint64_t count) {
    OwnedModel model;
    model.add_counting("layer.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, count});
    return model;
}

}  // namespace

TEST_CASE("selection: count rounds to nearest, not down") {
    // 0.29 * 100 is 28.999999999999996 in double; floor() would give 28.
    CHECK(count_to_prune(0.29, 100) == 29);
    CHECK(count_to_prune(0.57, 100) == 57);
    // 0.99 * 40 = 39.6 rounds to 40, the whole layer.
    CHECK(count_to_prune(0.99, 40) == 40);
    CHECK(count_to_prune(1.0, 40) == 40);
    CHECK(count_to_prune(0.0, 40) == 0);
    // Halves round away from zero: 0.5 * 5 = 2.5 gives 3.
    CHECK(count_to_prune(0.5, 5) == 3);
}

TEST_CASE("selection: global magnitude prunes the smallest weights across layers") {
    // Layer A [[0.1, -0.2], [0.3, -0.4]] and layer B [[1, -2, 3], [-4, 5, -6]], biases aside.
    OwnedModel model;
    model.add("a.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {0.1f, -0.2f, 0.3f, -0.4f});
    model.add("a.bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0.05f, 0.05f});
    model.add("b.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 3}, {1, -2, 3, -4, 5, -6});
    model.add("b.bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0.7f, 0.7f});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());

    Selection selection = select_units(units, magnitudes(model, units), 0.5, false, masks);

    // round(0.5 * 10) = 5 smallest |w|: all of layer A (units 0..3) and the 1 of layer B (unit 4).
    CHECK(selection.units == std::vector<uint64_t>{0, 1, 2, 3, 4});
    CHECK(selection.unit_count == 10);
    CHECK(selection.pruned_count == 5);
    CHECK(selection.achieved_sparsity == doctest::Approx(0.5));
    CHECK(selection.target_reached);
}

TEST_CASE("selection: 29 percent of 100 weights prunes exactly 29") {
    OwnedModel model = make_layer(100);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());

    Selection selection = select_units(units, magnitudes(model, units), 0.29, false, masks);

    // |w| = 1..29 are units 0..28.
    REQUIRE(selection.units.size() == 29);
    CHECK(selection.units.front() == 0);
    CHECK(selection.units.back() == 28);
}

TEST_CASE("selection: near-total targets prune the whole layer without failing") {
    OwnedModel model = make_layer(40);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());

    for (double target : {0.99, 1.0}) {
        CAPTURE(target);
        Selection selection = select_units(units, magnitudes(model, units), target, false, masks);
        // 0.99 * 40 = 39.6 rounds to 40; 1.0 * 40 = 40.
        CHECK(selection.units.size() == 40);
        CHECK(selection.achieved_sparsity == 1.0);
        CHECK(selection.target_reached);
    }
}

TEST_CASE("selection: structured pruning keeps one neuron per layer") {
    // MLP 2 -> h1(4) -> h2(3) -> 1 with row L2 norms h1 [0.1, 0.2, 0.3, 0.4], h2 [2, 3, 4].
    OwnedModel model;
    model.add("h1.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {4, 2},
              {0.1f, 0, 0.2f, 0, 0.3f, 0, 0.4f, 0});
    model.add("h2.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {3, 4},
              {2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0});
    model.add("out.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 3}, {1, 1, 1});
    auto structure = boost::json::parse(R"json({"neurons": [
      {"layer": "h1", "count": 4, "slices": [
        {"tensor": "h1.weight", "axis": 0, "start": 0, "step": 1, "width": 1},
        {"tensor": "h2.weight", "axis": 1, "start": 0, "step": 1, "width": 1}]},
      {"layer": "h2", "count": 3, "slices": [
        {"tensor": "h2.weight", "axis": 0, "start": 0, "step": 1, "width": 1},
        {"tensor": "out.weight", "axis": 1, "start": 0, "step": 1, "width": 1}]}]})json");
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    std::vector<double> norms{0.1, 0.2, 0.3, 0.4, 2, 3, 4};

    Selection selection = select_units(units, norms, 4.0 / 7.0, false, masks);

    // round(4/7 * 7) = 4. The naive ranking takes all of h1; the rule keeps 0.4 in h1, so the
    // fourth unit pruned is h2's 2 (unit 4): h1 width 1, h2 width 2.
    CHECK(selection.units == std::vector<uint64_t>{0, 1, 2, 4});
    CHECK(selection.target_reached);
}

TEST_CASE("selection: structured target beyond the keep rule reports a shortfall") {
    OwnedModel model;
    model.add_counting("h1.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {4, 2});
    model.add_counting("h2.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {3, 4});
    auto structure = boost::json::parse(R"json({"neurons": [
      {"layer": "h1", "count": 4, "slices": [
        {"tensor": "h1.weight", "axis": 0, "start": 0, "step": 1, "width": 1}]},
      {"layer": "h2", "count": 3, "slices": [
        {"tensor": "h2.weight", "axis": 0, "start": 0, "step": 1, "width": 1}]}]})json");
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    std::vector<double> scores{0.1, 0.2, 0.3, 0.4, 2, 3, 4};

    Selection selection = select_units(units, scores, 1.0, false, masks);

    // 7 asked, each of the 2 layers keeps its best neuron (0.4 and 4): 5 pruned.
    CHECK(selection.units == std::vector<uint64_t>{0, 1, 2, 4, 5});
    CHECK(selection.target_count == 7);
    CHECK(selection.pruned_count == 5);
    CHECK_FALSE(selection.target_reached);
    CHECK(selection.shortfall.find("every layer keeps at least one neuron") != std::string::npos);
    // 5 of 7 units can go: 0.714286.
    CHECK(selection.shortfall.find("at most 0.714286") != std::string::npos);
}

TEST_CASE("selection: cumulative targets apply to the full unit count") {
    OwnedModel model = make_layer(64);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());

    // Cubic schedule, s_f = 0.875, n = 2: step 1 at 0.875 * (1 - 0.5^3) = 0.765625.
    Selection first = select_units(units, magnitudes(model, units), 0.765625, false, masks);
    masks.prune_units(units, first.units);
    masks.apply(model.views());
    Selection second = select_units(units, magnitudes(model, units), 0.875, false, masks);
    masks.prune_units(units, second.units);

    // round(0.765625 * 64) = 49 zeros, then 56: 7 of the 15 survivors, not the compounding
    // 49 + round(0.875 * 15) = 62.
    CHECK(first.units.size() == 49);
    CHECK(first.pruned_count == 49);
    CHECK(second.units.size() == 7);
    CHECK(second.pruned_count == 56);
    CHECK(masks.pruned_element_count(0) == 56);
    CHECK(second.achieved_sparsity == 0.875);
    // The 7 new units are the next smallest survivors, |w| = 50..56.
    CHECK(second.units.front() == 49);
    CHECK(second.units.back() == 55);
}

TEST_CASE("selection: pruned units stay pruned whatever their new score") {
    OwnedModel model = make_layer(10);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<uint64_t> earlier{7, 8, 9};
    masks.prune_units(units, earlier);
    std::vector<double> scores{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    Selection selection = select_units(units, scores, 0.5, false, masks);

    // 5 asked, 3 already pruned (the highest scores): only 2 new, the lowest scores 0 and 1.
    CHECK(selection.units == std::vector<uint64_t>{0, 1});
    CHECK(selection.pruned_count == 5);
}

TEST_CASE("selection: lower target than already pruned selects nothing") {
    OwnedModel model = make_layer(10);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<uint64_t> earlier{0, 1, 2, 3, 4, 5};
    masks.prune_units(units, earlier);

    Selection selection = select_units(units, magnitudes(model, units), 0.3, false, masks);

    // Pruning only grows: 6 stay pruned, above the 3 asked.
    CHECK(selection.units.empty());
    CHECK(selection.pruned_count == 6);
    CHECK(selection.target_reached);
}

TEST_CASE("selection: equal scores break by lower unit index") {
    OwnedModel model = make_layer(6);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<double> scores{1, 0.5, 1, 0.5, 1, 1};

    Selection selection = select_units(units, scores, 0.5, false, masks);

    // Three to prune: both 0.5 (units 1, 3), then the lowest-index 1 (unit 0).
    CHECK(selection.units == std::vector<uint64_t>{0, 1, 3});
}

TEST_CASE("selection: per-group target holds in every tensor") {
    OwnedModel model;
    model.add("small.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 4}, {0.1f, 0.2f, 0.3f, 0.4f});
    model.add("large.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 6}, {1, 2, 3, 4, 5, 6});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());

    Selection selection = select_units(units, magnitudes(model, units), 0.5, true, masks);

    // round(0.5 * 4) = 2 of the small tensor, round(0.5 * 6) = 3 of the large one.
    CHECK(selection.units == std::vector<uint64_t>{0, 1, 4, 5, 6});
    CHECK(selection.target_count == 5);
}

TEST_CASE("selection: NaN score is rejected naming the unit") {
    OwnedModel model = make_layer(4);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<double> scores{1, std::numeric_limits<double>::quiet_NaN(), 2, 3};

    CHECK_THROWS_WITH_AS(select_units(units, scores, 0.5, false, masks),
                         doctest::Contains("unit 1 (layer.weight #1): the score is NaN"),
                         recprune::CellError);
}

TEST_CASE("selection: wrong score count and bad target are rejected") {
    OwnedModel model = make_layer(4);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<double> three{1, 2, 3};
    std::vector<double> four{1, 2, 3, 4};

    CHECK_THROWS_WITH_AS(select_units(units, three, 0.5, false, masks),
                         doctest::Contains("3 scores for 4 units"), recprune::CellError);
    CHECK_THROWS_AS(select_units(units, four, 1.2, false, masks), recprune::ConfigError);
    CHECK_THROWS_AS(select_units(units, four, -0.1, false, masks), recprune::ConfigError);
}
