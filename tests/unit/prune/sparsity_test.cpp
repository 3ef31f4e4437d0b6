#include "prune/sparsity.hpp"

#include "prune/masks.hpp"
#include "prune/selection.hpp"
#include "prune/units.hpp"
#include "prune_fixtures.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace {

using recprune::prune::MaskSet;
using recprune::prune::SparsityReport;
using recprune::prune::UnitSet;
using recprune::prune::measure_sparsity;
using recprune::prune::select_units;
using recprune::prune::testing::OwnedModel;

}  // namespace

TEST_CASE("sparsity: biases are left out of the weight sparsity") {
    // Layer A [[0.1, -0.2], [0.3, -0.4]] bias [0.05, 0.05]; layer B [[1, -2, 3], [-4, 5, -6]]
    // bias [0.7, 0.7]; global magnitude pruning at 0.5 of the 10 weights.
    OwnedModel model;
    model.add("a.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2}, {0.1f, -0.2f, 0.3f, -0.4f});
    model.add("a.bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0.05f, 0.05f});
    model.add("b.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 3}, {1, -2, 3, -4, 5, -6});
    model.add("b.bias", RECPRUNE_TENSOR_ROLE_BIAS, {2}, {0.7f, 0.7f});
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_WEIGHT, model.views(), {});
    MaskSet masks(model.views());
    std::vector<double> scores;
    for (float value : {0.1f, -0.2f, 0.3f, -0.4f, 1.0f, -2.0f, 3.0f, -4.0f, 5.0f, -6.0f}) {
        scores.push_back(std::fabs(value));
    }
    masks.prune_units(units, select_units(units, scores, 0.5, false, masks).units);
    masks.apply(model.views());

    SparsityReport report = measure_sparsity(model.views(), masks);

    // Layer A 4/4 = 1.0, layer B 1/6 = 0.166667, weights 5/10 = 0.5 (not 5/14 = 0.357143 with
    // biases, not the mean of the layers 0.583333), nonzero parameters 14 - 5 = 9.
    REQUIRE(report.tensors.size() == 4);
    CHECK(report.tensors[0].counts.sparsity() == 1.0);
    CHECK(report.tensors[2].counts.sparsity() == doctest::Approx(1.0 / 6.0).epsilon(1e-12));
    CHECK(report.dense_weights.sparsity() == 0.5);
    CHECK(report.prunable_weights.sparsity() == 0.5);
    CHECK(report.all_parameters.sparsity() == doctest::Approx(5.0 / 14.0).epsilon(1e-12));
    CHECK(report.nonzero_parameter_count == 9);
    CHECK(report.all_parameters.total == 14);
    CHECK(report.dense_weights.zero == 5);
}

TEST_CASE("sparsity: a family with no tensors reports null, not zero") {
    OwnedModel model;
    model.add("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, 2}, {1, 2});
    MaskSet masks(model.views());

    boost::json::object report = measure_sparsity(model.views(), masks).to_json();

    // No embedding tables: the sparsity over embeddings is undefined.
    CHECK(report.at("embeddings").as_object().at("sparsity").is_null());
    CHECK(report.at("dense_weights").as_object().at("sparsity").to_number<double>() == 0.0);
    CHECK(report.at("nonzero_parameter_count").to_number<uint64_t>() == 2);
}

TEST_CASE("sparsity: embedding and dense denominators are counted apart") {
    OwnedModel model;
    model.add_counting("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {4, 2}, 0);
    model.add_counting("w", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {2, 2});
    UnitSet rows = UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_ROW, model.views(), {});
    MaskSet masks(model.views());
    std::vector<uint64_t> pruned{3};
    masks.prune_units(rows, pruned);
    masks.apply(model.views());

    SparsityReport report = measure_sparsity(model.views(), masks);

    // One row of 2 of the 8 embedding weights; no dense weight; 2 of the 12 prunable weights.
    CHECK(report.embeddings.sparsity() == 0.25);
    CHECK(report.dense_weights.sparsity() == 0.0);
    CHECK(report.prunable_weights.sparsity() == doctest::Approx(2.0 / 12.0).epsilon(1e-12));
}
