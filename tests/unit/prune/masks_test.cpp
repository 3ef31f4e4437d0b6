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
using recprune::prune::UnitSet;
using recprune::prune::testing::OwnedModel;

}  // namespace

TEST_CASE("masks: apply zeroes pruned weights and leaves the rest") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {-1, 2, -3, 4});
    model.add("b", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {5, 6});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<uint64_t> pruned{0, 2};

    masks.prune_units(units, pruned);
    masks.apply(model.views());

    // Elements 0 and 2 (-1, -3) become +0.0, not -0.0.
    CHECK(model.tensors()[0].data == std::vector<float>{0, 2, 0, 4});
    CHECK_FALSE(std::signbit(model.tensors()[0].data[0]));
    CHECK(model.tensors()[1].data == std::vector<float>{5, 6});
    CHECK(masks.mask(1) == nullptr);
    REQUIRE(masks.mask(0) != nullptr);
    CHECK(masks.mask(0)[1] == 1);
    CHECK(masks.pruned_element_count(0) == 2);
}

TEST_CASE("masks: optimizer state is zeroed at pruned positions") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 3}, {1, 2, 3});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<uint64_t> pruned{1};
    masks.prune_units(units, pruned);
    std::vector<float> moment{0.5f, std::numeric_limits<float>::quiet_NaN(), 0.25f};

    masks.apply_to(0, moment.data());

    // Even a NaN in a pruned slot is cleared: a select, not a product with 0.
    CHECK(moment == std::vector<float>{0.5f, 0.0f, 0.25f});
}

TEST_CASE("masks: copies own their masks and pointers") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 4}, {1, 2, 3, 4});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet original(model.views());
    std::vector<uint64_t> first{0};
    std::vector<uint64_t> second{3};
    original.prune_units(units, first);

    MaskSet copy = original;
    copy.prune_units(units, second);

    CHECK(copy.mask_pointers()[0] == copy.mask(0));
    CHECK(copy.mask_pointers()[0] != original.mask_pointers()[0]);
    CHECK(original.pruned_element_count(0) == 1);
    CHECK(copy.pruned_element_count(0) == 2);
}

TEST_CASE("masks: pruned embedding rows remap to the out-of-vocabulary row") {
    OwnedModel model;
    model.add_counting("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {4, 2}, 0);
    model.add_counting("embedding.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, 1);
    UnitSet rows = UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_ROW, model.views(), {});
    MaskSet masks(model.views());
    // Units 0..3 are user rows, 4..6 item rows: prune user rows 1 and 3.
    std::vector<uint64_t> pruned{1, 3};

    masks.prune_units(rows, pruned);
    auto remap = masks.row_remap(2);

    REQUIRE(remap.size() == 2);
    CHECK(remap[0] == std::vector<uint32_t>{0, 0, 2, 0});
    CHECK(remap[1].empty());
    // Row 1 of a [4, 2] table is elements 2, 3.
    CHECK(masks.mask(0)[2] == 0);
    CHECK(masks.mask(0)[3] == 0);
    CHECK(masks.pruned_units(RECPRUNE_GRANULARITY_EMBEDDING_ROW) == pruned);
}

TEST_CASE("masks: a unit whose elements are all pruned counts as pruned") {
    OwnedModel model;
    model.add_counting("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2});
    auto structure = boost::json::parse(R"json({"neurons": [{"layer": "l", "count": 2,
        "slices": [{"tensor": "w", "axis": 0, "start": 0, "step": 1, "width": 1}]}]})json");
    UnitSet weights = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), structure);
    UnitSet neurons = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(), structure);
    MaskSet masks(model.views());
    // Weights 2 and 3 are row 1, that is neuron 1; weight 0 is half of neuron 0.
    std::vector<uint64_t> pruned{0, 2, 3};

    masks.prune_units(weights, pruned);

    CHECK(masks.pruned_unit_flags(neurons) == std::vector<uint8_t>{0, 1});
    CHECK(masks.pruned_units(RECPRUNE_GRANULARITY_NEURON).empty());
}

TEST_CASE("masks: unit index past the set is rejected before any change") {
    OwnedModel model;
    model.add_counting("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 3});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<uint64_t> pruned{0, 3};

    CHECK_THROWS_AS(masks.prune_units(units, pruned), std::out_of_range);
    CHECK(masks.mask(0) == nullptr);
}
