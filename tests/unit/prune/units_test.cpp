#include "prune/units.hpp"

#include "core/errors.hpp"
#include "prune_fixtures.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <utility>

namespace {

using recprune::prune::UnitSet;
using recprune::prune::testing::OwnedModel;
using Element = std::pair<uint32_t, uint64_t>;

// Two fields with 2-dimensional embeddings feeding a 4 -> 3 -> 1 MLP. Tensor indices:
// 0 embedding.user [3, 2], 1 embedding.item [4, 2], 2 mlp.0.weight [3, 4], 3 mlp.0.bias [3],
// 4 mlp.1.weight [1, 3], 5 mlp.1.bias [1].
OwnedModel make_model() {
    OwnedModel model;
    model.add_counting("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, 0);
    model.add_counting("embedding.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, {4, 2}, 1);
    model.add_counting("mlp.0.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {3, 4});
    model.add_counting("mlp.0.bias", RECPRUNE_TENSOR_ROLE_BIAS, {3});
    model.add_counting("mlp.1.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 3});
    model.add_counting("mlp.1.bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});
    return model;
}

constexpr const char* kStructure = R"json({
  "fields": [
    {"field": 0, "name": "user", "slices": [
      {"tensor": "embedding.user", "axis": 0, "start": 0, "width": 3},
      {"tensor": "mlp.0.weight", "axis": 1, "start": 0, "width": 2}]},
    {"field": 1, "name": "item", "slices": [
      {"tensor": "embedding.item", "axis": 0, "start": 0, "width": 4},
      {"tensor": "mlp.0.weight", "axis": 1, "start": 2, "width": 2}]}],
  "embedding_dims": {"count": 2, "slices": [
    {"tensor": "embedding.user", "axis": 1, "start": 0, "step": 1, "width": 1},
    {"tensor": "embedding.item", "axis": 1, "start": 0, "step": 1, "width": 1},
    {"tensor": "mlp.0.weight", "axis": 1, "start": 0, "step": 1, "width": 1},
    {"tensor": "mlp.0.weight", "axis": 1, "start": 2, "step": 1, "width": 1}]},
  "neurons": [{"layer": "mlp.0", "count": 3, "slices": [
    {"tensor": "mlp.0.weight", "axis": 0, "start": 0, "step": 1, "width": 1},
    {"tensor": "mlp.0.bias", "axis": 0, "start": 0, "step": 1, "width": 1},
    {"tensor": "mlp.1.weight", "axis": 1, "start": 0, "step": 1, "width": 1}]}]
})json";

std::set<Element> elements_of(const UnitSet& units, uint64_t unit) {
    std::set<Element> elements;
    units.for_each_element(unit, [&](uint32_t tensor, uint64_t element) {
        elements.insert({tensor, element});
    });
    return elements;
}

}  // namespace

TEST_CASE("units: weight granularity lists every embedding and dense weight") {
    OwnedModel model = make_model();

    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(),
                                   boost::json::parse(kStructure));

    // 6 + 8 embedding weights, 12 + 3 dense weights; biases are not prunable weights.
    CHECK(units.size() == 29);
    REQUIRE(units.blocks().size() == 4);
    CHECK(units.blocks()[3].name == "mlp.1.weight");
    CHECK(units.blocks()[3].offset == 26);
    CHECK(units.group_of(0) == 0);
    CHECK(units.group_of(6) == 1);
    CHECK(units.group_of(14) == 2);
    CHECK(units.group_of(28) == 4);
    // Unit 10 is element 10 - 6 = 4 of embedding.item.
    CHECK(elements_of(units, 10) == std::set<Element>{{1, 4}});
}

TEST_CASE("units: a neuron covers its row, its bias and the next layer's column") {
    OwnedModel model = make_model();

    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(),
                                   boost::json::parse(kStructure));

    CHECK(units.size() == 3);
    // Row 1 of mlp.0.weight [3, 4] is elements 4..7; bias element 1; column 1 of mlp.1.weight
    // [1, 3] is element 1.
    std::set<Element> expected{{2, 4}, {2, 5}, {2, 6}, {2, 7}, {3, 1}, {4, 1}};
    CHECK(elements_of(units, 1) == expected);
    CHECK(units.group_of(2) == 0);
}

TEST_CASE("units: an embedding dimension covers a column of every table and its inputs") {
    OwnedModel model = make_model();

    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_DIM, model.views(),
                                   boost::json::parse(kStructure));

    CHECK(units.size() == 2);
    // Column 1 of embedding.user [3, 2]: 1, 3, 5; of embedding.item [4, 2]: 1, 3, 5, 7;
    // columns 1 and 3 of mlp.0.weight [3, 4]: 1, 5, 9 and 3, 7, 11.
    std::set<Element> expected{{0, 1}, {0, 3}, {0, 5}, {1, 1}, {1, 3}, {1, 5}, {1, 7},
                               {2, 1}, {2, 5}, {2, 9}, {2, 3}, {2, 7}, {2, 11}};
    CHECK(elements_of(units, 1) == expected);
}

TEST_CASE("units: a field covers its whole table and its input columns") {
    OwnedModel model = make_model();

    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_FIELD, model.views(),
                                   boost::json::parse(kStructure));

    REQUIRE(units.size() == 2);
    CHECK(units.blocks()[1].name == "item");
    CHECK(units.blocks()[1].field == 1);
    std::set<Element> expected;
    for (uint64_t element = 0; element < 8; ++element) expected.insert({1, element});
    // Columns 2 and 3 of mlp.0.weight [3, 4].
    for (uint64_t element : {2, 3, 6, 7, 10, 11}) expected.insert({2, element});
    CHECK(elements_of(units, 1) == expected);
}

TEST_CASE("units: an embedding row covers that row in every table of its field") {
    OwnedModel model = make_model();
    // A first-order weight table for field 1, as a factorization machine has.
    model.add_counting("linear.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, {4, 1}, 1);

    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_ROW, model.views(),
                                   boost::json::parse(kStructure));

    // 3 user rows then 4 item rows.
    CHECK(units.size() == 7);
    CHECK(units.blocks()[0].name == "user");
    CHECK(units.group_of(2) == 0);
    CHECK(units.group_of(4) == 1);
    // Unit 4 is item row 1: elements 2, 3 of embedding.item and element 1 of linear.item.
    std::set<Element> expected{{1, 2}, {1, 3}, {6, 1}};
    CHECK(elements_of(units, 4) == expected);
}

TEST_CASE("units: rank-4 tensors slice along any axis") {
    OwnedModel model;
    model.add_counting("conv", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 3, 2, 2});
    constexpr const char* structure = R"json({"neurons": [{"layer": "conv", "count": 3,
        "slices": [{"tensor": "conv", "axis": 1, "start": 0, "step": 1, "width": 1}]}]})json";

    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(),
                                   boost::json::parse(structure));

    // Index (a, 2, c, d) of a [2, 3, 2, 2] tensor is a * 12 + 2 * 4 + c * 2 + d.
    std::set<Element> expected{{0, 8}, {0, 9}, {0, 10}, {0, 11}, {0, 20}, {0, 21}, {0, 22},
                               {0, 23}};
    CHECK(elements_of(units, 2) == expected);
}

TEST_CASE("units: description lists blocks with offsets for pruners") {
    OwnedModel model = make_model();
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(),
                                   boost::json::parse(kStructure));

    boost::json::object description = boost::json::parse(units.units_json()).as_object();

    CHECK(description.at("granularity").as_string() == "weight");
    CHECK(description.at("unit_count").to_number<uint64_t>() == 29);
    const boost::json::array& blocks = description.at("blocks").as_array();
    REQUIRE(blocks.size() == 4);
    const boost::json::object& dense = blocks[2].as_object();
    CHECK(dense.at("name").as_string() == "mlp.0.weight");
    CHECK(dense.at("tensor").to_number<uint32_t>() == 2);
    CHECK(dense.at("offset").to_number<uint64_t>() == 14);
    CHECK(dense.at("count").to_number<uint64_t>() == 12);
    const boost::json::object& slice = dense.at("slices").as_array()[0].as_object();
    CHECK(slice.at("flat").as_bool());
}

TEST_CASE("units: structure naming an unknown tensor is rejected with its path") {
    OwnedModel model = make_model();
    constexpr const char* structure = R"json({"neurons": [{"layer": "mlp.0", "count": 3,
        "slices": [{"tensor": "mlp.9.weight", "axis": 0, "start": 0, "step": 1, "width": 1}]}]})json";

    CHECK_THROWS_WITH_AS(UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(),
                                        boost::json::parse(structure)),
                         doctest::Contains("$.neurons[0].slices[0].tensor: \"mlp.9.weight\""),
                         recprune::PluginError);
}

TEST_CASE("units: slice past the tensor's extent is rejected") {
    OwnedModel model = make_model();
    // Four neurons of mlp.0.weight [3, 4] would need rows 0..3.
    constexpr const char* structure = R"json({"neurons": [{"layer": "mlp.0", "count": 4,
        "slices": [{"tensor": "mlp.0.weight", "axis": 0, "start": 0, "step": 1, "width": 1}]}]})json";

    CHECK_THROWS_WITH_AS(UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(),
                                        boost::json::parse(structure)),
                         doctest::Contains("ends at index 4 of axis 0, past the extent 3"),
                         recprune::PluginError);
}

TEST_CASE("units: granularity the model lacks names the supported ones") {
    OwnedModel model;
    model.add_counting("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 1}, 0);
    model.add_counting("bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});

    CHECK_THROWS_WITH_AS(UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(),
                                        boost::json::value()),
                         doctest::Contains("supports (weight, embedding_row)"),
                         recprune::ConfigError);
}

TEST_CASE("units: pruned summary names the removed fields") {
    OwnedModel model = make_model();
    UnitSet fields = UnitSet::build(RECPRUNE_GRANULARITY_FIELD, model.views(),
                                    boost::json::parse(kStructure));
    UnitSet neurons = UnitSet::build(RECPRUNE_GRANULARITY_NEURON, model.views(),
                                     boost::json::parse(kStructure));
    std::vector<uint8_t> item_pruned{0, 1};
    std::vector<uint8_t> two_neurons{1, 0, 1};

    boost::json::object field_summary = fields.pruned_summary(item_pruned);
    boost::json::object neuron_summary = neurons.pruned_summary(two_neurons);

    CHECK(field_summary.at("pruned_count").to_number<uint64_t>() == 1);
    CHECK(field_summary.at("pruned_names") == boost::json::array{"item"});
    // Neurons 0 and 2 of the one layer mlp.0 (3 neurons); no names at this granularity.
    const boost::json::object& layer = neuron_summary.at("blocks").as_array()[0].as_object();
    CHECK(layer.at("name").as_string() == "mlp.0");
    CHECK(layer.at("count").to_number<uint64_t>() == 3);
    CHECK(layer.at("pruned").to_number<uint64_t>() == 2);
    CHECK_FALSE(neuron_summary.contains("pruned_names"));
}
