// The comparison behind the compaction check: compacted logits must match the masked model's
// within a relative tolerance, and a NaN on either side must fail it.
#include "run/compaction.hpp"

#include "../prune/prune_fixtures.hpp"
#include "prune/masks.hpp"
#include "prune/units.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cmath>
#include <limits>
#include <vector>

using recprune::run::compare_logits;

TEST_CASE("compaction: equal logits compare as zero") {
    const std::vector<float> logits = {0.25f, -3.0f, 12.5f};

    const auto comparison = compare_logits(logits, logits);

    CHECK(comparison.max_abs_difference == 0.0);
    CHECK(comparison.max_relative_difference == 0.0);
}

TEST_CASE("compaction: relative difference scales with the logit") {
    // Row 0: |0.5| / (1 + 0) = 0.5. Row 1: |1.0| / (1 + 9) = 0.1. So row 0 is the worst even
    // though row 1 has the larger absolute difference.
    const std::vector<float> masked = {0.0f, 9.0f};
    const std::vector<float> compacted = {0.5f, 10.0f};

    const auto comparison = compare_logits(masked, compacted);

    CHECK(comparison.max_abs_difference == 1.0);
    CHECK(comparison.max_relative_difference == doctest::Approx(0.5));
    CHECK(comparison.worst_row == 0);
}

TEST_CASE("compaction: NaN logit is the worst row") {
    const std::vector<float> masked = {1.0f, 2.0f, 3.0f};
    const std::vector<float> compacted = {1.0f, std::numeric_limits<float>::quiet_NaN(), 3.5f};

    const auto comparison = compare_logits(masked, compacted);

    CHECK(std::isnan(comparison.max_relative_difference));
    CHECK(std::isnan(comparison.max_abs_difference));
    CHECK(comparison.worst_row == 1);
    // The check passes only when the maximum is <= the tolerance, which NaN never is.
    CHECK_FALSE(comparison.max_relative_difference <= 1e-4);
}

namespace {

// Two fields of 3 embedding rows each, with the structure's field units.
struct TwoFields {
    recprune::prune::testing::OwnedModel model;
    boost::json::value structure;
    TwoFields() {
        model.add_counting("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, 0);
        model.add_counting("embedding.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, 1);
        boost::json::array fields;
        for (const char* name : {"user", "item"}) {
            const uint64_t field = fields.size();
            fields.push_back(boost::json::object{
                {"field", field},
                {"name", name},
                {"slices", boost::json::array{boost::json::object{
                               {"tensor", std::string("embedding.") + name},
                               {"axis", 0},
                               {"start", 0},
                               {"width", 3}}}}});
        }
        structure = boost::json::object{{"fields", fields}};
    }
};

// The compaction plan of TwoFields with embedding-row units `pruned` pruned. Units 0-2 are the
// user rows and 3-5 the item rows.
boost::json::object plan_with_pruned_rows(const std::vector<uint64_t>& pruned) {
    TwoFields setup;
    const auto rows = recprune::prune::UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_ROW,
                                                      setup.model.views(), setup.structure);
    recprune::prune::MaskSet masks(setup.model.views());
    masks.prune_units(rows, pruned);
    return recprune::run::build_compaction_plan(setup.structure, masks, 2);
}

}  // namespace

TEST_CASE("compaction plan: a field with every row pruned is removed") {
    // Every user row and item row 2.
    const auto plan = plan_with_pruned_rows({0, 1, 2, 5});

    // The user field reads only zeros, so it goes, and keeps no remap; the item field keeps
    // rows 0 and 1.
    CHECK(boost::json::serialize(plan.at("removed_fields")) == "[0]");
    const auto& remap = plan.at("row_remap").as_object();
    CHECK_FALSE(remap.contains("0"));
    CHECK(boost::json::serialize(remap.at("1")) == "[0,1,0]");
}

TEST_CASE("compaction plan: the last field stays when all its rows are pruned") {
    const auto plan = plan_with_pruned_rows({0, 1, 2, 3, 4, 5});

    // Removing both would leave a model without fields, so the plan remaps rows instead.
    CHECK_FALSE(plan.contains("removed_fields"));
    CHECK(plan.at("row_remap").as_object().size() == 2);
}
