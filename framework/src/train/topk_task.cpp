#include "train/topk_task.hpp"

#include "core/hash.hpp"
#include "metrics/ranking.hpp"
#include "metrics/topk_metric_names.hpp"
#include "metrics/topk_protocols.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

namespace recprune::train {
namespace {

bool is_positive(float label) { return label >= 0.5f; }

const metrics::MetricValue& pick(const metrics::TopKReport& report,
                                 metrics::TopKMetricName::Kind kind) {
    using Kind = metrics::TopKMetricName::Kind;
    switch (kind) {
        case Kind::Hr: return report.hr.mean;
        case Kind::Ndcg: return report.ndcg.mean;
        case Kind::Recall: return report.recall.mean;
        case Kind::Precision: return report.precision.mean;
        case Kind::Mrr: return report.mrr.mean;
    }
    return report.hr.mean;
}

const metrics::MetricValue& pick(const metrics::RankingScores& scores,
                                 metrics::TopKMetricName::Kind kind) {
    using Kind = metrics::TopKMetricName::Kind;
    switch (kind) {
        case Kind::Hr: return scores.hr;
        case Kind::Ndcg: return scores.ndcg;
        case Kind::Recall: return scores.recall;
        case Kind::Precision: return scores.precision;
        case Kind::Mrr: return scores.mrr;
    }
    return scores.hr;
}

std::vector<metrics::TopKMetricName> parse_names(const std::vector<std::string>& names) {
    std::vector<metrics::TopKMetricName> parsed;
    for (const std::string& name : names) {
        auto metric = metrics::parse_topk_metric_name(name);
        if (!metric) {
            throw std::invalid_argument("invalid metric: \"" + name +
                                        "\" is not a metric of the topk task; use " +
                                        metrics::topk_metric_name_forms());
        }
        parsed.push_back(*metric);
    }
    return parsed;
}

}  // namespace

std::span<const uint32_t> TopKTask::RankingPlan::relevant_of(size_t index) const {
    return {relevant.data() + relevant_offsets[index],
            relevant_offsets[index + 1] - relevant_offsets[index]};
}

std::span<const uint32_t> TopKTask::RankingPlan::negatives_of(size_t index) const {
    if (negative_offsets.size() <= index + 1) return {};
    return {negatives.data() + negative_offsets[index],
            negative_offsets[index + 1] - negative_offsets[index]};
}

TopKTask::TopKTask(const data::PreparedData& data, uint64_t evaluation_seed)
    : data_(data), evaluation_seed_(evaluation_seed), rows_(data), interactions_(data) {
    // The sampled negatives per epoch depend on the seed, but not their number.
    const data::Part& train = data.train;
    const uint32_t per_positive = settings().train_negatives;
    training_example_count_ = train.row_count;
    std::vector<bool> user_counted(interactions_.user_id_count(), false);
    for (uint64_t row = 0; row < train.row_count; ++row) {
        if (!is_positive(train.labels[row]) || per_positive == 0) continue;
        const uint32_t user = train.users[row];
        if (unseen_count(interactions_.training_catalogue(),
                         interactions_.training_items().items_of(user)) > 0) {
            training_example_count_ += per_positive;
        } else if (!user_counted[user]) {
            user_counted[user] = true;
            ++users_without_sampled_negatives_;
        }
    }

    std::vector<uint32_t> all_ids(interactions_.item_id_count());
    std::iota(all_ids.begin(), all_ids.end(), uint32_t{0});
    std::set_difference(all_ids.begin(), all_ids.end(), interactions_.catalogue().begin(),
                        interactions_.catalogue().end(), std::back_inserter(non_items_));
}

PairExamples TopKTask::training_examples(uint64_t negative_seed) const {
    const data::Part& train = data_.train;
    const uint32_t per_positive = settings().train_negatives;
    PairExamples examples;
    examples.users.reserve(training_example_count_);
    examples.items.reserve(training_example_count_);
    examples.labels.reserve(training_example_count_);
    examples.users.assign(train.users.begin(), train.users.end());
    examples.items.assign(train.items.begin(), train.items.end());
    examples.labels.assign(train.labels.begin(), train.labels.end());
    if (per_positive == 0) return examples;

    std::mt19937_64 engine(negative_seed);
    const auto catalogue = interactions_.training_catalogue();
    for (uint64_t row = 0; row < train.row_count; ++row) {
        if (!is_positive(train.labels[row])) continue;
        const uint32_t user = train.users[row];
        const auto seen = interactions_.training_items().items_of(user);
        if (unseen_count(catalogue, seen) == 0) continue;
        for (uint32_t draw = 0; draw < per_positive; ++draw) {
            examples.users.push_back(user);
            examples.items.push_back(draw_unseen_item(catalogue, seen, engine));
            examples.labels.push_back(0.0f);
        }
    }
    return examples;
}

const TopKTask::RankingPlan& TopKTask::plan(const data::Part& part,
                                            const std::string& part_name) {
    if (auto found = plans_.find(&part); found != plans_.end()) return found->second;

    // Rows grouped by user (ascending), then by item.
    std::vector<uint64_t> order(part.row_count);
    std::iota(order.begin(), order.end(), uint64_t{0});
    std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
        return std::pair(part.users[a], part.items[a]) < std::pair(part.users[b], part.items[b]);
    });

    RankingPlan plan;
    std::mt19937_64 engine(derive_seed(evaluation_seed_, "eval-negatives:" + part_name));
    std::vector<uint32_t> sampled;
    for (uint64_t begin = 0; begin < order.size();) {
        const uint32_t user = part.users[order[begin]];
        uint64_t end = begin;
        const auto trained = interactions_.training_items().items_of(user);
        uint32_t previous = std::numeric_limits<uint32_t>::max();
        for (; end < order.size() && part.users[order[end]] == user; ++end) {
            const uint64_t row = order[end];
            if (!is_positive(part.labels[row])) continue;
            const uint32_t item = part.items[row];
            if (item == previous) continue;  // the same positive twice in this part
            previous = item;
            if (std::binary_search(trained.begin(), trained.end(), item)) {
                ++plan.positives_seen_in_training;
                continue;
            }
            plan.relevant.push_back(item);
        }
        plan.users.push_back(user);
        plan.relevant_offsets.push_back(plan.relevant.size());

        // Negatives only for users that are ranked, so left-out users draw nothing.
        if (!full_ranking()) {
            if (plan.relevant_offsets.back() > plan.relevant_offsets[plan.users.size() - 1]) {
                sample_unseen_items(interactions_.catalogue(),
                                    interactions_.all_items().items_of(user),
                                    settings().eval_negatives, engine, sampled);
                plan.negatives.insert(plan.negatives.end(), sampled.begin(), sampled.end());
            }
            plan.negative_offsets.push_back(plan.negatives.size());
        }
        begin = end;
    }
    return plans_.emplace(&part, std::move(plan)).first->second;
}

uint64_t TopKTask::candidate_count(const RankingPlan& plan, size_t index) const {
    if (!full_ranking()) return plan.relevant_of(index).size() + plan.negatives_of(index).size();
    return unseen_count(interactions_.catalogue(),
                        interactions_.training_items().items_of(plan.users[index]));
}

void TopKTask::append_candidates(const RankingPlan& plan, size_t index,
                                 std::vector<uint32_t>& items) const {
    if (!full_ranking()) {
        auto relevant = plan.relevant_of(index);
        auto negatives = plan.negatives_of(index);
        items.insert(items.end(), relevant.begin(), relevant.end());
        items.insert(items.end(), negatives.begin(), negatives.end());
        return;
    }
    const auto trained = interactions_.training_items().items_of(plan.users[index]);
    std::set_difference(interactions_.catalogue().begin(), interactions_.catalogue().end(),
                        trained.begin(), trained.end(), std::back_inserter(items));
}

std::map<std::string, metrics::MetricValue> TopKTask::evaluate(
    const data::Part& part, const std::string& part_name,
    const std::vector<std::string>& metric_names, const PairScorer& score,
    uint64_t chunk_pairs) {
    const std::vector<metrics::TopKMetricName> names = parse_names(metric_names);
    const RankingPlan& plan = this->plan(part, part_name);
    chunk_pairs = std::max<uint64_t>(1, chunk_pairs);
    std::vector<std::vector<metrics::MetricValue>> per_user(names.size());
    for (auto& values : per_user) values.reserve(plan.users.size());

    std::vector<uint32_t> pair_users;
    std::vector<uint32_t> pair_items;
    std::vector<float> logits;
    std::vector<uint64_t> starts;
    std::vector<float> item_scores(full_ranking() ? interactions_.item_id_count() : 0, 0.0f);
    std::vector<uint32_t> excluded;
    std::vector<std::pair<size_t, metrics::TopKReport>> reports;

    size_t next = 0;
    while (next < plan.users.size()) {
        // A block contains whole users and at most `chunk_pairs` pairs, unless one user alone has
        // more candidates than that.
        const size_t block_begin = next;
        pair_users.clear();
        pair_items.clear();
        starts.assign(1, 0);
        for (; next < plan.users.size(); ++next) {
            const uint64_t count = plan.relevant_of(next).empty() ? 0 : candidate_count(plan, next);
            if (next > block_begin && pair_items.size() + count > chunk_pairs) break;
            if (count > 0) append_candidates(plan, next, pair_items);
            pair_users.resize(pair_items.size(), plan.users[next]);
            starts.push_back(pair_items.size());
        }
        logits.resize(pair_items.size());
        for (uint64_t begin = 0; begin < pair_items.size(); begin += chunk_pairs) {
            const uint64_t end = std::min<uint64_t>(pair_items.size(), begin + chunk_pairs);
            score(std::span(pair_users).subspan(begin, end - begin),
                  std::span(pair_items).subspan(begin, end - begin),
                  std::span(logits).subspan(begin, end - begin));
        }

        // Each user is ranked alone, once per distinct cut-off, and the metrics are averaged
        // at the end, so blocks never change the result.
        for (size_t index = block_begin; index < next; ++index) {
            const auto relevant = plan.relevant_of(index);
            if (relevant.empty()) {
                const metrics::RankingScores none =
                    metrics::ranking_scores_at_k({}, metrics::RelevantItems{}, 1);
                for (size_t name = 0; name < names.size(); ++name) {
                    per_user[name].push_back(pick(none, names[name].kind));
                }
                continue;
            }
            const uint32_t user = plan.users[index];
            const uint64_t offset = starts[index - block_begin];
            const uint64_t count = starts[index - block_begin + 1] - offset;
            const auto items = std::span<const uint32_t>(pair_items).subspan(offset, count);
            const auto scores = std::span<const float>(logits).subspan(offset, count);
            if (full_ranking()) {
                for (uint64_t position = 0; position < count; ++position) {
                    item_scores[items[position]] = scores[position];
                }
                const auto trained = interactions_.training_items().items_of(user);
                excluded.clear();
                std::set_union(non_items_.begin(), non_items_.end(), trained.begin(),
                               trained.end(), std::back_inserter(excluded));
            }
            reports.clear();
            for (size_t name = 0; name < names.size(); ++name) {
                const size_t k = names[name].k.value_or(static_cast<size_t>(count));
                auto cached = std::find_if(reports.begin(), reports.end(),
                                           [&](const auto& entry) { return entry.first == k; });
                if (cached == reports.end()) {
                    metrics::TopKReport report;
                    if (full_ranking()) {
                        const metrics::FullRankingUser entry{user, item_scores, excluded,
                                                             relevant};
                        report = metrics::evaluate_full_ranking(std::span(&entry, 1), k);
                    } else {
                        const metrics::LeaveOneOutUser entry{user, items, scores, relevant};
                        report = metrics::evaluate_leave_one_out(std::span(&entry, 1), k);
                    }
                    reports.emplace_back(k, std::move(report));
                    cached = reports.end() - 1;
                }
                per_user[name].push_back(pick(cached->second, names[name].kind));
            }
        }
    }

    std::map<std::string, metrics::MetricValue> evaluation;
    for (size_t name = 0; name < names.size(); ++name) {
        evaluation[metric_names[name]] = metrics::mean_over_defined(per_user[name]).mean;
    }
    return evaluation;
}

boost::json::object TopKTask::part_summary(const data::Part& part, const std::string& part_name) {
    const RankingPlan& plan = this->plan(part, part_name);
    uint64_t evaluated = 0;
    uint64_t min_candidates = std::numeric_limits<uint64_t>::max();
    uint64_t max_candidates = 0;
    for (size_t index = 0; index < plan.users.size(); ++index) {
        if (plan.relevant_of(index).empty()) continue;
        ++evaluated;
        const uint64_t count = candidate_count(plan, index);
        min_candidates = std::min(min_candidates, count);
        max_candidates = std::max(max_candidates, count);
    }
    return boost::json::object{{"users", plan.users.size()},
                               {"users_evaluated", evaluated},
                               {"users_left_out", plan.users.size() - evaluated},
                               {"positives_seen_in_training", plan.positives_seen_in_training},
                               {"min_candidates", evaluated == 0 ? 0 : min_candidates},
                               {"max_candidates", max_candidates}};
}

boost::json::object TopKTask::to_json() {
    boost::json::object out;
    out["protocol"] = settings().protocol;
    out["train_negatives"] = settings().train_negatives;
    if (!full_ranking()) out["eval_negatives"] = settings().eval_negatives;
    out["training_pairs_per_epoch"] = training_example_count_;
    out["users_without_sampled_negatives"] = users_without_sampled_negatives_;
    out["field_sides"] = rows_.sides_json();
    out["validation"] = part_summary(data_.validation, "validation");
    out["test"] = part_summary(data_.test, "test");
    return out;
}

}  // namespace recprune::train
