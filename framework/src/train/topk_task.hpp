// The "topk" task: implicit-feedback training pairs with sampled negatives, and ranking
// evaluation by leave-one-out with sampled negatives (the protocol of He et al., "Neural
// Collaborative Filtering", WWW 2017) or by full ranking over the items a user has not seen.
#pragma once

#include "data/prepare.hpp"
#include "metrics/metric_value.hpp"
#include "train/candidate_rows.hpp"
#include "train/interactions.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace recprune::train {

/// (user, item, label) examples of one training epoch.
struct PairExamples {
    std::vector<uint32_t> users;
    std::vector<uint32_t> items;
    std::vector<float> labels;

    uint64_t size() const { return users.size(); }
};

/// Writes one logit per (users[i], items[i]) pair into `logits`, which has their length.
using PairScorer = std::function<void(std::span<const uint32_t> users,
                                      std::span<const uint32_t> items, std::span<float> logits)>;

/// Training pairs and ranking evaluation of the "topk" task, from PreparedData::settings.topk.
///
/// A row with label 1 is a positive interaction; a row with label 0 stays a negative. Every
/// row, whatever its label, counts as an interaction, so neither sampler ever returns an item
/// the user has a row with. Models see every pair, positive or sampled, through CandidateRows,
/// so training and ranking build the features of a pair the same way.
///
/// Not thread-safe: evaluation caches what it ranks per part.
///
/// Known limit: every trainer builds its own task (item sets and candidate rows, about
/// O(rows log rows)), so each cell of a group repeats that work. That took 5 ms for the
/// 86,000 training rows of the shipped MovieTweetings sample (Release build, one Xeon core);
/// share one task per dataset and seed if it shows up on larger data.
class TopKTask {
public:
    /// `data` must outlive the task. `evaluation_seed` drives the sampled evaluation negatives
    /// and nothing else. The cell runner gives the cell's seed, so the dense cell and every
    /// pruned cell of a group rank the same candidates. Throws DataError when the data has no
    /// user or item ids.
    TopKTask(const data::PreparedData& data, uint64_t evaluation_seed);

    const CandidateRows& rows() const { return rows_; }
    const Interactions& interactions() const { return interactions_; }
    const data::TopKSettings& settings() const { return data_.settings.topk; }

    /// Every training row, in part order, then `train_negatives` negatives per positive row,
    /// drawn in row order from a stream seeded with `negative_seed` alone: items with a
    /// training row that the user has no training row with. A user who has a training row with
    /// every such item gets no sampled negatives.
    PairExamples training_examples(uint64_t negative_seed) const;
    /// The size of every training_examples() result, whatever the seed.
    uint64_t training_example_count() const { return training_example_count_; }

    /// Ranks each user's candidates in `part` with `score` (called on at most `chunk_pairs`
    /// pairs at a time) and returns, per metric name (see parse_topk_metric_name()), the mean
    /// over the users with a relevant item, in ascending user id order. A user's relevant
    /// items are its positives in the part that it has no training row with. `part_name`
    /// ("validation", "test") names the part in the seed of its sampled negatives.
    /// @throws std::invalid_argument for a name that is not a top-K metric, and as the
    ///         metrics::evaluate_* protocols.
    std::map<std::string, metrics::MetricValue> evaluate(
        const data::Part& part, const std::string& part_name,
        const std::vector<std::string>& metric_names, const PairScorer& score,
        uint64_t chunk_pairs);

    /// {"users", "users_evaluated", "users_left_out", "positives_seen_in_training",
    /// "min_candidates", "max_candidates"} of what evaluate() ranks on `part`.
    boost::json::object part_summary(const data::Part& part, const std::string& part_name);

    /// The settings and what they led to, for the result row: "protocol", "train_negatives",
    /// "eval_negatives" (leave-one-out only), "training_pairs_per_epoch",
    /// "users_without_sampled_negatives", "field_sides", and part_summary() of the validation
    /// and test parts.
    boost::json::object to_json();

private:
    /// The candidates evaluation ranks on one part, per user in ascending id order (CSR).
    struct RankingPlan {
        std::vector<uint32_t> users;
        std::vector<uint64_t> relevant_offsets{0};
        std::vector<uint32_t> relevant;
        /// Leave-one-out only: the sampled negatives of each user.
        std::vector<uint64_t> negative_offsets{0};
        std::vector<uint32_t> negatives;
        uint64_t positives_seen_in_training = 0;

        std::span<const uint32_t> relevant_of(size_t index) const;
        std::span<const uint32_t> negatives_of(size_t index) const;
    };

    const RankingPlan& plan(const data::Part& part, const std::string& part_name);
    bool full_ranking() const { return settings().protocol == "full_ranking"; }
    /// Number of items evaluate() ranks for the plan's user at `index`.
    uint64_t candidate_count(const RankingPlan& plan, size_t index) const;
    /// Appends the candidates of the plan's user at `index`: relevant items first.
    void append_candidates(const RankingPlan& plan, size_t index,
                           std::vector<uint32_t>& items) const;

    const data::PreparedData& data_;
    uint64_t evaluation_seed_;
    CandidateRows rows_;
    Interactions interactions_;
    uint64_t training_example_count_ = 0;
    uint64_t users_without_sampled_negatives_ = 0;
    /// Item ids below interactions_.item_id_count() that no row has (0 at least); full
    /// ranking excludes them.
    std::vector<uint32_t> non_items_;
    std::map<const data::Part*, RankingPlan> plans_;
};

}  // namespace recprune::train
