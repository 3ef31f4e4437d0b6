// Top-K training pairs and ranking evaluation (train/topk_task.hpp) on a hand-built data set
// whose metrics are computed by hand, through a fixed scorer and through the trainer with a
// real logistic regression plugin whose weights are set to the same scores.
#include "train/topk_task.hpp"

#include "../plugin/plugin_test_support.hpp"
#include "topk_fixtures.hpp"

#include "plugin/instances.hpp"
#include "core/errors.hpp"
#include "train/trainer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using recprune::data::PreparedData;
using recprune::test::Interaction;
using recprune::test::make_random_topk_data;
using recprune::test::make_topk_data;
using recprune::train::PairExamples;
using recprune::train::TopKTask;

namespace {

// 1 / log2(3), the discount at rank 2.
const double kDiscountRank2 = 1.0 / std::log2(3.0);

// Three users, six items (ids 1..6):
//   train       user 1: items 1+, 2+, 3-   user 2: 2+, 4+   user 3: 1+, 5+, 6+
//   validation  user 1: 5+                 user 2: 4+ (also a training item)
//   test        user 1: 4+                 user 2: 5+, 6+   user 3: 2-
// ("+" label 1, "-" label 0). eval_negatives = 99 exceeds every user's unseen items, so
// leave-one-out takes all of them and no draw decides the candidates.
PreparedData hand_data(const std::string& protocol) {
    PreparedData data = make_topk_data(
        {{1, 1, 1}, {1, 2, 1}, {1, 3, 0}, {2, 2, 1}, {2, 4, 1}, {3, 1, 1}, {3, 5, 1}, {3, 6, 1}},
        {{1, 5, 1}, {2, 4, 1}}, {{1, 4, 1}, {2, 5, 1}, {2, 6, 1}, {3, 2, 0}}, 4, 7);
    data.settings.topk.protocol = protocol;
    data.settings.topk.eval_negatives = 99;
    return data;
}

// The fixed scorer: the logit of (user, item) is kItemScore[item] for every user.
const float kItemScore[7] = {0.0f, 0.1f, 0.2f, 0.9f, 0.5f, 0.7f, 0.3f};

using ScoredPairs = std::vector<std::pair<uint32_t, uint32_t>>;

recprune::train::PairScorer item_scorer() {
    return [](std::span<const uint32_t>, std::span<const uint32_t> items,
              std::span<float> logits) {
        for (size_t pair = 0; pair < items.size(); ++pair) logits[pair] = kItemScore[items[pair]];
    };
}

// For the random data sets: any fixed score, recording every pair it was asked to score.
recprune::train::PairScorer recording_scorer(ScoredPairs& scored) {
    return [&scored](std::span<const uint32_t> users, std::span<const uint32_t> items,
                     std::span<float> logits) {
        for (size_t pair = 0; pair < items.size(); ++pair) {
            logits[pair] = static_cast<float>((items[pair] * 37 + users[pair]) % 101);
            scored.emplace_back(users[pair], items[pair]);
        }
    };
}

const std::vector<std::string> kNames = {"hr@1",     "hr@2", "ndcg@2",     "recall@2",
                                         "mrr",      "mrr@1", "precision@2"};

double value_of(const std::map<std::string, recprune::metrics::MetricValue>& evaluation,
                const std::string& name) {
    const auto& metric = evaluation.at(name);
    REQUIRE_MESSAGE(metric.value.has_value(), name << ": " << metric.status);
    return *metric.value;
}

// Checks the metrics whose hand-computed value is exact in binary (0, 1/2, 3/4, 1).
void check_exact(const std::map<std::string, recprune::metrics::MetricValue>& evaluation,
                 const std::map<std::string, double>& expected) {
    for (const auto& [name, value] : expected) {
        CAPTURE(name);
        CHECK(value_of(evaluation, name) == value);
    }
}

// Positions of every (user, item) pair in the rows of all parts.
std::set<std::pair<uint32_t, uint32_t>> interactions_of(const PreparedData& data) {
    std::set<std::pair<uint32_t, uint32_t>> pairs;
    for (const auto* part : {&data.train, &data.validation, &data.test}) {
        for (uint64_t row = 0; row < part->row_count; ++row) {
            pairs.emplace(part->users[row], part->items[row]);
        }
    }
    return pairs;
}

}  // namespace

TEST_CASE("leave-one-out: hand-computed fixed-scorer metrics") {
    // Test part, candidates = held-out positives + every item the user has no row with:
    // - user 1: positive 4, unseen {6}; scores 4:0.5, 6:0.3 rank [4, 6]. Hit at rank 1:
    //   HR@1 = HR@2 = NDCG@2 = recall@2 = MRR = MRR@1 = 1, precision@2 = 1/2.
    // - user 2: positives 5 and 6, unseen {1, 3}; scores 3:0.9, 5:0.7, 6:0.3, 1:0.1 rank
    //   [3, 5, 6, 1]. HR@1 = 0, HR@2 = 1, NDCG@2 = (1/log2 3) / (1 + 1/log2 3) = 0.386853,
    //   recall@2 = 1/2, MRR = 1/2, MRR@1 = 0, precision@2 = 1/2.
    // - user 3: no positive in the test part, so left out.
    // Means over users 1 and 2, all by hand.
    PreparedData data = hand_data("leave_one_out");
    TopKTask task(data, 1);

    auto evaluation = task.evaluate(data.test, "test", kNames, item_scorer(), 1000);

    check_exact(evaluation, {{"hr@1", 0.5},
                             {"hr@2", 1.0},
                             {"recall@2", 0.75},
                             {"mrr", 0.75},
                             {"mrr@1", 0.5},
                             {"precision@2", 0.5}});
    const double user2_ndcg = kDiscountRank2 / (1.0 + kDiscountRank2);
    CHECK(std::abs(user2_ndcg - 0.386853) <= 5e-7);  // 6 decimals given by hand
    CHECK(value_of(evaluation, "ndcg@2") == doctest::Approx((1.0 + user2_ndcg) / 2.0));
    CHECK(std::abs(value_of(evaluation, "ndcg@2") - 0.6934265) <= 5e-7);
}

TEST_CASE("full ranking: hand-computed fixed-scorer metrics") {
    // Candidates = every item without a training row for the user, so user 1 now also ranks
    // item 5 (a validation item), which leave-one-out leaves out:
    // - user 1: candidates {4, 5, 6} rank [5, 4, 6], positive 4 at rank 2: HR@1 = 0,
    //   HR@2 = 1, NDCG@2 = 1/log2 3 = 0.630930, recall@2 = 1, MRR = 1/2, MRR@1 = 0,
    //   precision@2 = 1/2.
    // - user 2: candidates {1, 3, 5, 6}, as in leave-one-out: NDCG@2 = 0.386853, MRR = 1/2.
    // Means over users 1 and 2, by hand.
    PreparedData data = hand_data("full_ranking");
    TopKTask task(data, 1);

    auto evaluation = task.evaluate(data.test, "test", kNames, item_scorer(), 1000);

    check_exact(evaluation, {{"hr@1", 0.0},
                             {"hr@2", 1.0},
                             {"recall@2", 0.75},
                             {"mrr", 0.5},
                             {"mrr@1", 0.0},
                             {"precision@2", 0.5}});
    const double expected_ndcg = (kDiscountRank2 + kDiscountRank2 / (1.0 + kDiscountRank2)) / 2;
    CHECK(value_of(evaluation, "ndcg@2") == doctest::Approx(expected_ndcg));
    CHECK(std::abs(value_of(evaluation, "ndcg@2") - 0.5088915) <= 5e-7);
}

TEST_CASE("top-K evaluation: chunk size leaves metrics unchanged") {
    // One pair per scorer call forces a block per user and a chunk per pair.
    PreparedData data = hand_data("leave_one_out");
    TopKTask task(data, 1);

    auto whole = task.evaluate(data.test, "test", kNames, item_scorer(), 1000);
    auto pairwise = task.evaluate(data.test, "test", kNames, item_scorer(), 1);

    for (const auto& name : kNames) {
        CAPTURE(name);
        CHECK(value_of(whole, name) == value_of(pairwise, name));
    }
}

TEST_CASE("top-K evaluation: users left out are counted") {
    // Validation: user 1's positive 5 is ranked against unseen item 6 (2 candidates). User
    // 2's only positive, 4, is also a training interaction, so user 2 has nothing to rank.
    // Test: users 1 and 2 ranked among 2 and 4 candidates (see the hand-computed case), user
    // 3 has no positive.
    PreparedData data = hand_data("leave_one_out");
    TopKTask task(data, 1);

    auto validation = task.part_summary(data.validation, "validation");
    auto test = task.part_summary(data.test, "test");

    CHECK(validation.at("users").to_number<int>() == 2);
    CHECK(validation.at("users_evaluated").to_number<int>() == 1);
    CHECK(validation.at("users_left_out").to_number<int>() == 1);
    CHECK(validation.at("positives_seen_in_training").to_number<int>() == 1);
    CHECK(validation.at("min_candidates").to_number<int>() == 2);
    CHECK(test.at("users").to_number<int>() == 3);
    CHECK(test.at("users_evaluated").to_number<int>() == 2);
    CHECK(test.at("users_left_out").to_number<int>() == 1);
    CHECK(test.at("min_candidates").to_number<int>() == 2);
    CHECK(test.at("max_candidates").to_number<int>() == 4);

    auto json = task.to_json();
    CHECK(json.at("protocol") == "leave_one_out");
    CHECK(json.at("eval_negatives").to_number<int>() == 99);
    CHECK(json.at("train_negatives").to_number<int>() == 4);
    CHECK(json.at("field_sides").at("user") == "user");
    CHECK(json.at("field_sides").at("item") == "item");
}

TEST_CASE("top-K evaluation: an unknown metric name is rejected") {
    PreparedData data = hand_data("leave_one_out");
    TopKTask task(data, 1);

    CHECK_THROWS_WITH_AS(task.evaluate(data.test, "test", {"auc"}, item_scorer(), 10),
                         doctest::Contains("\"auc\" is not a metric of the topk task"),
                         std::invalid_argument);
    CHECK_THROWS_AS(task.evaluate(data.test, "test", {"hr@0"}, item_scorer(), 10),
                    std::invalid_argument);
}

TEST_CASE("top-K training pairs: rows plus negatives per positive") {
    // 8 training rows, 7 of them positive, 4 negatives each: 8 + 28 = 36 pairs. Every user
    // has an unseen training item (the training catalogue is items 1..6).
    PreparedData data = hand_data("leave_one_out");
    TopKTask task(data, 1);

    PairExamples examples = task.training_examples(42);

    CHECK(task.training_example_count() == 36);
    REQUIRE(examples.size() == 36);
    for (uint64_t row = 0; row < 8; ++row) {
        CHECK(examples.users[row] == data.train.users[row]);
        CHECK(examples.items[row] == data.train.items[row]);
        CHECK(examples.labels[row] == data.train.labels[row]);
    }
    // Negatives follow in row order, 4 per positive row: user 1 draws first, from {4, 5, 6}.
    for (uint64_t pair = 8; pair < 16; ++pair) {
        CHECK(examples.users[pair] == 1);
        CHECK(examples.items[pair] >= 4);
        CHECK(examples.labels[pair] == 0.0f);
    }
}

TEST_CASE("top-K sampling: the same seed gives the same negatives") {
    // Two tasks over data built twice stand for two runs of the same cell.
    PreparedData first_data = make_random_topk_data(60, 40, 12, 7);
    PreparedData second_data = make_random_topk_data(60, 40, 12, 7);
    for (auto* data : {&first_data, &second_data}) data->settings.topk.eval_negatives = 10;
    TopKTask first(first_data, 5);
    TopKTask second(second_data, 5);
    TopKTask other_seed(first_data, 6);

    PairExamples a = first.training_examples(11);
    PairExamples b = second.training_examples(11);
    PairExamples c = first.training_examples(12);
    CHECK(a.users == b.users);
    CHECK(a.items == b.items);
    CHECK(a.items != c.items);

    ScoredPairs scored_first, scored_second, scored_other;
    first.evaluate(first_data.test, "test", {"hr@10"}, recording_scorer(scored_first), 64);
    second.evaluate(second_data.test, "test", {"hr@10"}, recording_scorer(scored_second), 64);
    other_seed.evaluate(first_data.test, "test", {"hr@10"}, recording_scorer(scored_other), 64);
    CHECK(!scored_first.empty());
    CHECK(scored_first == scored_second);
    CHECK(scored_first != scored_other);

    // Validation and test draw their own negatives, and a second evaluation of a part ranks
    // the same candidates as the first.
    ScoredPairs again;
    first.evaluate(first_data.test, "test", {"ndcg@5"}, recording_scorer(again), 64);
    CHECK(again == scored_first);
}

TEST_CASE("top-K sampling: negatives avoid every interacted item") {
    PreparedData data = make_random_topk_data(80, 30, 14, 3);
    data.settings.topk.eval_negatives = 9;
    data.settings.topk.train_negatives = 3;
    TopKTask task(data, 2);
    const auto interacted = interactions_of(data);
    std::set<std::pair<uint32_t, uint32_t>> trained;
    std::set<uint32_t> training_items;
    for (uint64_t row = 0; row < data.train.row_count; ++row) {
        trained.emplace(data.train.users[row], data.train.items[row]);
        training_items.insert(data.train.items[row]);
    }

    // Training: each sampled item has a training row, but none with this user.
    PairExamples examples = task.training_examples(99);
    REQUIRE(examples.size() > data.train.row_count);
    for (uint64_t pair = data.train.row_count; pair < examples.size(); ++pair) {
        CAPTURE(pair);
        CHECK(examples.labels[pair] == 0.0f);
        CHECK(trained.count({examples.users[pair], examples.items[pair]}) == 0);
        CHECK(training_items.count(examples.items[pair]) == 1);
    }

    // Leave-one-out: each scored pair is a held-out positive of the test part or an item the
    // user has no row with in any part, and no user ranks an item twice.
    std::set<std::pair<uint32_t, uint32_t>> test_positives;
    for (uint64_t row = 0; row < data.test.row_count; ++row) {
        if (data.test.labels[row] == 1.0f) {
            test_positives.emplace(data.test.users[row], data.test.items[row]);
        }
    }
    ScoredPairs scored;
    task.evaluate(data.test, "test", {"hr@10"}, recording_scorer(scored), 50);
    REQUIRE(!scored.empty());
    std::set<std::pair<uint32_t, uint32_t>> distinct(scored.begin(), scored.end());
    CHECK(distinct.size() == scored.size());
    size_t negatives = 0;
    for (const auto& pair : scored) {
        if (test_positives.count(pair) == 1) continue;
        CHECK(interacted.count(pair) == 0);
        ++negatives;
    }
    // 9 per ranked user: each user has 30 - 14 = 16 unseen items, more than 9.
    CHECK(negatives == 9 * (scored.size() - negatives));
}

TEST_CASE("unseen items: rank lookup and sampling match the set difference") {
    const std::vector<uint32_t> catalogue{2, 3, 5, 7, 8, 11, 13};
    const std::vector<uint32_t> seen{3, 7, 8, 13};
    const std::vector<uint32_t> unseen{2, 5, 11};

    REQUIRE(recprune::train::unseen_count(catalogue, seen) == 3);
    for (uint64_t rank = 0; rank < unseen.size(); ++rank) {
        CHECK(recprune::train::unseen_item_at(catalogue, seen, rank) == unseen[rank]);
    }

    std::mt19937_64 engine(1);
    std::vector<uint32_t> sample;
    recprune::train::sample_unseen_items(catalogue, seen, 5, engine, sample);
    CHECK(sample == unseen);
    recprune::train::sample_unseen_items(catalogue, seen, 2, engine, sample);
    REQUIRE(sample.size() == 2);
    CHECK(sample[0] < sample[1]);
    for (uint32_t item : sample) CHECK(std::count(unseen.begin(), unseen.end(), item) == 1);

    // 30000 draws over 3 items: each count is binomial with mean 10000 and standard deviation
    // 81.6, so 500 is more than 6 standard deviations.
    std::map<uint32_t, int> counts;
    for (int draw = 0; draw < 30000; ++draw) {
        ++counts[recprune::train::draw_unseen_item(catalogue, seen, engine)];
    }
    REQUIRE(counts.size() == 3);
    for (uint32_t item : unseen) CHECK(std::abs(counts[item] - 10000) < 500);
}

TEST_CASE("trainer: real model matches the fixed scorer") {
    // Logistic regression scores b + w_user[u] + w_item[i]; with b = 0, w_user = 0 and
    // w_item = kItemScore it is the fixed scorer, so the hand-computed values hold.
    PreparedData data = hand_data("leave_one_out");
    auto library = recprune::plugin::PluginLibrary::load(
        recprune::test::real_plugin("model", "logistic_regression"));
    recprune::plugin::ModelInstance model(library, "{}", data.schema_json(), 1);
    for (const auto& tensor : model.tensors()) {
        std::fill(tensor.data, tensor.data + tensor.element_count, 0.0f);
        if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING && tensor.field == 1) {
            std::copy(std::begin(kItemScore), std::end(kItemScore), tensor.data);
        }
    }
    recprune::grid::TrainingSettings settings;
    settings.eval_batch_size = 3;
    recprune::train::Trainer trainer(model, data, settings, "ndcg@2", 1, 1);
    TopKTask reference(data, 1);

    auto through_model = trainer.evaluate(data.test, kNames);
    auto through_scorer = reference.evaluate(data.test, "test", kNames, item_scorer(), 1000);

    for (const auto& name : kNames) {
        CAPTURE(name);
        CHECK(value_of(through_model, name) == value_of(through_scorer, name));
    }
    // Validation has one ranked user, whose positive 5 (0.7) beats item 6 (0.3).
    CHECK(trainer.validation_score() == 1.0);
    // The scores ignore the user, so shuffling the user field changes nothing.
    CHECK(trainer.evaluate_permuted(0, 17) == 1.0);
    // 36 training pairs (see the training-pairs case) in batches of 10.
    settings.batch_size = 10;
    recprune::train::Trainer batched(model, data, settings, "ndcg@2", 1, 1);
    CHECK(batched.steps_per_epoch() == 4);
}

TEST_CASE("top-K task: data without user ids is rejected") {
    PreparedData data = hand_data("leave_one_out");
    data.train.users.clear();

    CHECK_THROWS_WITH_AS(TopKTask(data, 1),
                         doctest::Contains("top-K task failed: train part: 8 rows but 0 user and "
                                           "8 item ids"),
                         recprune::DataError);
}
