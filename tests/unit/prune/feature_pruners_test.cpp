#include "prune/masks.hpp"
#include "prune/selection.hpp"
#include "prune/units.hpp"
#include "prune_fixtures.hpp"
#include "pruner_harness.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace {

using recprune::prune::MaskSet;
using recprune::prune::UnitSet;
using recprune::prune::testing::FixtureContext;
using recprune::prune::testing::FixtureData;
using recprune::prune::testing::OwnedModel;
using recprune::prune::testing::PluginPruner;

/// Returns a structure JSON with one field per embedding table "embedding.<name>".
std::string field_structure(const std::vector<std::string>& names,
                            const std::vector<uint64_t>& rows) {
    boost::json::array fields;
    for (size_t field = 0; field < names.size(); ++field) {
        boost::json::object slice{{"tensor", "embedding." + names[field]}, {"axis", 0},
                                  {"start", 0}, {"width", rows[field]}};
        fields.push_back(boost::json::object{
            {"field", field}, {"name", names[field]}, {"slices", boost::json::array{slice}}});
    }
    return boost::json::serialize(boost::json::object{{"fields", fields}});
}

/// A model of one 2-wide embedding table per field, and its FIELD or EMBEDDING_ROW scores.
struct FeatureCase {
    std::vector<std::string> names;
    std::vector<uint64_t> rows;
    FixtureData data;
};

std::vector<double> feature_scores(const FeatureCase& setup, recprune_granularity_t granularity,
                                   const std::string& pruner_name, const std::string& params,
                                   const FixtureContext::EvaluateFn& evaluate = {},
                                   const FixtureContext::EmbeddingFn& embeddings = {}) {
    OwnedModel model;
    for (size_t field = 0; field < setup.names.size(); ++field) {
        model.add_counting("embedding." + setup.names[field], RECPRUNE_TENSOR_ROLE_EMBEDDING,
                           {setup.rows[field], 2}, static_cast<uint32_t>(field));
    }
    std::string structure = field_structure(setup.names, setup.rows);
    UnitSet units = UnitSet::build(granularity, model.views(), boost::json::parse(structure));
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, structure);
    fixture.set_data(setup.data);
    if (evaluate) fixture.set_evaluate(evaluate);
    if (embeddings) fixture.set_embeddings(embeddings);
    PluginPruner pruner(pruner_name, params, 11);
    return pruner.score(fixture.context());
}

/// Five rows: user ids [1, 1, 2, 0, 1]; genre (multi-hot) [1, 2], [], [1], [0], [2].
FeatureCase make_count_case() {
    FeatureCase setup;
    setup.names = {"user", "genre"};
    setup.rows = {4, 3};
    setup.data.field_names = {"user", "genre"};
    setup.data.vocabulary_sizes = {4, 3};
    setup.data.ids = {{1, 1, 2, 0, 1}, {1, 2, 1, 0, 2}};
    setup.data.offsets = {{}, {0, 2, 2, 3, 4, 5}};
    setup.data.labels = {1, 0, 1, 0, 1};
    return setup;
}

/// Builds a single-valued data set with the given field ids and labels.
FeatureCase make_single_valued_case(const std::vector<std::vector<uint32_t>>& ids,
                                    const std::vector<float>& labels) {
    FeatureCase setup;
    for (size_t field = 0; field < ids.size(); ++field) {
        std::string name = "f" + std::to_string(field);
        uint32_t max_id = 0;
        for (uint32_t id : ids[field]) max_id = std::max(max_id, id);
        setup.names.push_back(name);
        setup.rows.push_back(max_id + 1);
        setup.data.field_names.push_back(name);
        setup.data.vocabulary_sizes.push_back(max_id + 1);
    }
    setup.data.ids = ids;
    setup.data.labels = labels;
    return setup;
}

}  // namespace

TEST_CASE("frequency pruner: rows score their training count") {
    std::vector<double> scores =
        feature_scores(make_count_case(), RECPRUNE_GRANULARITY_EMBEDDING_ROW, "frequency", "{}");

    // User rows 0..3: out-of-vocabulary row kept (infinite), id 1 three times, id 2 once, id 3
    // never. Genre rows 0..2: kept, id 1 twice, id 2 twice.
    double inf = std::numeric_limits<double>::infinity();
    CHECK(scores == std::vector<double>{inf, 3, 1, 0, inf, 2, 2});
}

TEST_CASE("frequency pruner: out-of-vocabulary row may be counted too") {
    std::vector<double> scores = feature_scores(
        make_count_case(), RECPRUNE_GRANULARITY_EMBEDDING_ROW, "frequency",
        R"({"keep_oov_row": false})");

    // User id 0 occurs once, genre id 0 once.
    CHECK(scores == std::vector<double>{1, 3, 1, 0, 1, 2, 2});
}

TEST_CASE("frequency pruner: fields score their coverage") {
    std::vector<double> scores = feature_scores(make_count_case(), RECPRUNE_GRANULARITY_FIELD,
                                                "frequency", R"({"granularity": "field"})");

    // User: 4 of 5 rows have an id other than 0. Genre: rows 0, 2 and 4; row 1 is empty and row
    // 3 holds only id 0: 3 of 5.
    CHECK(scores == std::vector<double>{0.8, 0.6});
}

TEST_CASE("frequency pruner: rare rows are selected first") {
    OwnedModel model;
    model.add_counting("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, {4, 2}, 0);
    model.add_counting("embedding.genre", RECPRUNE_TENSOR_ROLE_EMBEDDING, {3, 2}, 1);
    FeatureCase setup = make_count_case();
    std::string structure = field_structure(setup.names, setup.rows);
    UnitSet units = UnitSet::build(RECPRUNE_GRANULARITY_EMBEDDING_ROW, model.views(),
                                   boost::json::parse(structure));
    MaskSet masks(model.views());
    FixtureContext fixture(model, units, masks, structure);
    fixture.set_data(setup.data);
    PluginPruner pruner("frequency", "{}");

    auto selection =
        recprune::prune::select_units(units, pruner.score(fixture.context()), 2.0 / 7.0, false, masks);
    masks.prune_units(units, selection.units);

    // round(2/7 * 7) = 2: user id 3 (count 0) and user id 2 (count 1), which now read row 0.
    CHECK(selection.units == std::vector<uint64_t>{2, 3});
    CHECK(masks.row_remap(2)[0] == std::vector<uint32_t>{0, 1, 0, 0});
}

TEST_CASE("permutation pruner: scores the mean metric drop") {
    FeatureCase setup = make_single_valued_case({{1, 2}, {1, 2}}, {0, 1});
    std::set<uint64_t> seeds;
    int baseline_calls = 0;
    auto evaluate = [&](uint32_t field, uint64_t seed) {
        if (field == RECPRUNE_NO_FIELD) {
            ++baseline_calls;
            return 0.8;
        }
        seeds.insert(seed);
        // Field 0 costs 0.2 of the metric when shuffled, field 1 costs 0.05.
        return field == 0 ? 0.6 : 0.75;
    };

    std::vector<double> scores = feature_scores(setup, RECPRUNE_GRANULARITY_FIELD, "permutation",
                                                R"({"repeats": 3})", evaluate);

    REQUIRE(scores.size() == 2);
    CHECK(scores[0] == doctest::Approx(0.2));
    CHECK(scores[1] == doctest::Approx(0.05));
    CHECK(baseline_calls == 1);
    // 3 repeats for each of 2 fields, each with its own permutation seed.
    CHECK(seeds.size() == 6);
}

TEST_CASE("mutual information pruner: label copy scores ln 2") {
    // Labels [0, 1, 0, 1]. Field 0 copies the label, field 1 is constant, field 2 is
    // independent of the label.
    FeatureCase setup =
        make_single_valued_case({{1, 2, 1, 2}, {1, 1, 1, 1}, {1, 1, 2, 2}}, {0, 1, 0, 1});

    std::vector<double> plain = feature_scores(setup, RECPRUNE_GRANULARITY_FIELD,
                                               "mutual_information", R"({"correction": "none"})");
    std::vector<double> corrected =
        feature_scores(setup, RECPRUNE_GRANULARITY_FIELD, "mutual_information", "{}");

    // Plug-in: ln 2 = 0.693147, 0, 0.
    CHECK(plain[0] == doctest::Approx(std::log(2.0)).epsilon(1e-12));
    CHECK(plain[1] == doctest::Approx(0.0));
    CHECK(plain[2] == doctest::Approx(0.0));
    // Miller-Madow, N = 4: H(X) + H(Y) - H(X, Y) each plus (m - 1) / 8. Copy: m = 2, 2, 2, so
    // ln 2 + 1/8. Constant: m = 1, 2, 2, so 0. Independent: m = 2, 2, 4, so -1/8.
    CHECK(corrected[0] == doctest::Approx(std::log(2.0) + 0.125).epsilon(1e-12));
    CHECK(corrected[1] == doctest::Approx(0.0));
    CHECK(corrected[2] == doctest::Approx(-0.125).epsilon(1e-12));
}

TEST_CASE("mutual information pruner: many label values fall into quantile bins") {
    // Labels 1..6 in 2 bins: the upper edges are the values at positions 6 * 1 / 2 = 3 (label
    // 4) and the last (label 6), so classes {1, 2, 3, 4} and {5, 6}. The field splits rows the
    // same way, so I = H(Y) = -(4/6 ln 4/6 + 2/6 ln 2/6) = 0.636514.
    FeatureCase setup = make_single_valued_case({{1, 1, 1, 1, 2, 2}}, {1, 2, 3, 4, 5, 6});

    std::vector<double> scores =
        feature_scores(setup, RECPRUNE_GRANULARITY_FIELD, "mutual_information",
                       R"({"label_bins": 2, "correction": "none"})");

    double expected = -(4.0 / 6.0 * std::log(4.0 / 6.0) + 2.0 / 6.0 * std::log(2.0 / 6.0));
    CHECK(scores[0] == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("similarity pruner: one-hot copies are removed first") {
    // Field 1 relabels field 0 (a copy), field 2 is unrelated.
    FeatureCase setup = make_single_valued_case(
        {{1, 2, 3, 1, 2, 3}, {5, 6, 7, 5, 6, 7}, {1, 1, 2, 2, 1, 2}}, {0, 1, 0, 1, 0, 1});

    std::vector<double> scores = feature_scores(setup, RECPRUNE_GRANULARITY_FIELD, "similarity",
                                                R"({"mode": "one_hot"})");

    // The pair (0, 1) has similarity 1; both are equally similar to field 2, so the higher
    // index goes first. Then field 2 goes from the last pair (0, 2), and field 0 stays.
    CHECK(scores == std::vector<double>{2, 0, 1});
}

TEST_CASE("similarity pruner: embedding outputs by cosine") {
    // Four fields over 4 rows, width 2: field 1 is twice field 0, field 2 differs, field 3 is
    // all zero (already removed).
    FeatureCase setup = make_single_valued_case({{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1},
                                                 {1, 1, 1, 1}},
                                                {0, 1, 0, 1});
    auto embeddings = [](uint64_t first_row, uint64_t row_count, float* out) -> uint32_t {
        const float field0[4][2] = {{1, 0}, {0, 1}, {1, 1}, {2, 0}};
        const float field2[4][2] = {{0, 3}, {1, 0}, {0, 0}, {2, 2}};
        for (uint64_t row = 0; row < row_count; ++row) {
            for (int dim = 0; dim < 2; ++dim) {
                float base = field0[first_row + row][dim];
                out[(0 * row_count + row) * 2 + dim] = base;
                out[(1 * row_count + row) * 2 + dim] = 2 * base;
                out[(2 * row_count + row) * 2 + dim] = field2[first_row + row][dim];
                out[(3 * row_count + row) * 2 + dim] = 0;
            }
        }
        return 2;
    };

    std::vector<double> scores = feature_scores(setup, RECPRUNE_GRANULARITY_FIELD, "similarity",
                                                "{}", {}, embeddings);

    // Field 3 has no output and goes first; then field 1 (the copy), field 2, and field 0 stays.
    CHECK(scores == std::vector<double>{3, 1, 2, 0});
}

TEST_CASE("similarity pruner: unknown mode is rejected") {
    CHECK_THROWS_WITH(PluginPruner("similarity", R"({"mode": "pearson"})"),
                      doctest::Contains("\"pearson\" is not one of embedding, one_hot"));
}
