// Synthetic click data with known ground truth, to score feature pruners on whether they keep
// the fields that matter and drop the rest.
//
// Each row draws a user, an item (popular items more often) and one value for every field,
// then a click with probability sigmoid(bias + affinity * <u, v> + sum of the informative
// fields' value weights). Field kinds:
// - informative: value weights ~ N(0, s_k^2), with s_k = signal / sqrt(k + 1) so the fields
//   have a known order of importance;
// - exact copy of an informative field: the same value under a fixed relabelling;
// - noisy copy: like an exact copy, but with probability copy_noise a random value instead;
// - noise: random values that do not enter the click probability;
// - rare: with probability rare_rate a value never seen elsewhere (a singleton), otherwise
//   one of a few common values; no effect on clicks.
// Fields are named field_00, field_01, ... in a shuffled order, so a name does not give its
// kind away. The metadata's "truth" object maps every name to its kind, source and weight
// scale. The same parameters always give the same rows on every platform, because the random
// numbers come from SplitMix64 and a hand-written Box-Muller transform.
#include "recprune/sdk.hpp"
#include "recprune/sdk/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr const char* kSchema = R"json({"parameters": {
  "rows": {"type": "integer", "default": 100000, "minimum": 1, "maximum": 100000000, "help": "rows to generate"},
  "users": {"type": "integer", "default": 1000, "minimum": 1, "maximum": 100000000, "help": "distinct users"},
  "items": {"type": "integer", "default": 500, "minimum": 1, "maximum": 100000000, "help": "distinct items"},
  "latent_dim": {"type": "integer", "default": 8, "minimum": 0, "maximum": 256,
                 "help": "size of the user and item preference vectors (0 turns preferences off)"},
  "affinity": {"type": "number", "default": 1.0, "minimum": 0,
               "help": "weight of the user-item preference term in the click logit"},
  "informative_fields": {"type": "integer", "default": 4, "minimum": 0, "maximum": 100,
                         "help": "fields whose values change the click probability"},
  "exact_copies": {"type": "integer", "default": 1, "minimum": 0, "maximum": 100,
                   "help": "relabelled exact copies of informative fields (field k copies informative field k mod n)"},
  "noisy_copies": {"type": "integer", "default": 1, "minimum": 0, "maximum": 100,
                   "help": "copies of informative fields with a fraction copy_noise of random values"},
  "copy_noise": {"type": "number", "default": 0.2, "minimum": 0, "maximum": 1,
                 "help": "probability that a noisy copy holds a random value"},
  "noise_fields": {"type": "integer", "default": 4, "minimum": 0, "maximum": 100,
                   "help": "fields of random values with no effect"},
  "rare_fields": {"type": "integer", "default": 1, "minimum": 0, "maximum": 100,
                  "help": "fields of mostly singleton values with no effect"},
  "rare_rate": {"type": "number", "default": 0.5, "minimum": 0, "maximum": 1,
                "help": "probability that a rare field's value occurs in no other row"},
  "cardinality": {"type": "integer", "default": 20, "minimum": 2, "maximum": 1000000,
                  "help": "distinct values of each informative, copy and noise field"},
  "signal": {"type": "number", "default": 1.0, "minimum": 0,
             "help": "standard deviation of the most important field's value weights"},
  "bias": {"type": "number", "default": -1.0, "help": "constant of the click logit"},
  "seed": {"type": "integer", "default": 1, "minimum": 0, "help": "seed of every random draw"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "accepted for symmetry with file datasets; generated rows are never bad"}
}})json";

// SplitMix64 with uniform and normal draws.
class Random {
public:
    explicit Random(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t value = (state_ += 0x9e3779b97f4a7c15ULL);
        value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
        value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
        return value ^ (value >> 31);
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform integer in [0, bound); the modulo bias is below 2^-40 for the bounds used here.
    uint64_t below(uint64_t bound) { return next() % bound; }
    double normal() {
        // Box-Muller; 1 - uniform() is in (0, 1], so the logarithm is finite.
        double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
        return radius * std::cos(2.0 * 3.14159265358979323846 * uniform());
    }

private:
    uint64_t state_;
};

enum class Kind { Informative, ExactCopy, NoisyCopy, Noise, Rare };

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::Informative:
            return "informative";
        case Kind::ExactCopy:
            return "exact_copy";
        case Kind::NoisyCopy:
            return "noisy_copy";
        case Kind::Noise:
            return "noise";
        case Kind::Rare:
            return "rare";
    }
    return "unknown";
}

struct FieldPlan {
    Kind kind;
    size_t source = 0;              // informative field a copy follows
    double weight_scale = 0.0;      // informative: standard deviation of the value weights
    std::vector<double> weights;    // informative: one per value
    std::vector<uint64_t> relabel;  // copies: value -> copied value
    std::string name;
};

class Synthetic : public recprune::Dataset {
public:
    Synthetic(const recprune::Host& host, const json& params) : host_(host), params_(params) {
        auto count = [&](const char* name, int64_t fallback, int64_t minimum) {
            int64_t value = params.value(name, fallback);
            if (value < minimum) {
                throw recprune::InvalidArgument(
                    "invalid parameter: synthetic." + std::string(name) + ": " +
                    std::to_string(value) + " is below " + std::to_string(minimum) + "; raise it");
            }
            return static_cast<uint64_t>(value);
        };
        rows_ = count("rows", 100000, 1);
        users_ = count("users", 1000, 1);
        items_ = count("items", 500, 1);
        latent_dim_ = count("latent_dim", 8, 0);
        informative_ = count("informative_fields", 4, 0);
        exact_copies_ = count("exact_copies", 1, 0);
        noisy_copies_ = count("noisy_copies", 1, 0);
        noise_fields_ = count("noise_fields", 4, 0);
        rare_fields_ = count("rare_fields", 1, 0);
        cardinality_ = count("cardinality", 20, 2);
        seed_ = count("seed", 1, 0);
        affinity_ = params.value("affinity", 1.0);
        copy_noise_ = params.value("copy_noise", 0.2);
        rare_rate_ = params.value("rare_rate", 0.5);
        signal_ = params.value("signal", 1.0);
        bias_ = params.value("bias", -1.0);
        if (informative_ == 0 && exact_copies_ + noisy_copies_ > 0) {
            throw recprune::InvalidArgument(
                "invalid parameter: synthetic.exact_copies: copies need an informative field to "
                "copy, and informative_fields is 0; raise informative_fields or set the copies to "
                "0");
        }
    }

    std::vector<std::string> sources() const override { return {}; }

    recprune::Table load() override {
        Random random(seed_);
        std::vector<FieldPlan> plans = plan_fields(random);

        // Preference entries have variance 1/sqrt(latent_dim), so <u, v> has variance 1.
        const double scale =
            latent_dim_ > 0 ? 1.0 / std::sqrt(static_cast<double>(latent_dim_)) : 0.0;
        std::vector<double> user_vectors(users_ * latent_dim_), item_vectors(items_ * latent_dim_);
        for (double& value : user_vectors) value = random.normal() * std::sqrt(scale);
        for (double& value : item_vectors) value = random.normal() * std::sqrt(scale);

        recprune::Table table;
        table.row_count = rows_;
        auto user = text::make_categorical(
            "user", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER);
        auto item = text::make_categorical(
            "item", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM);
        std::vector<recprune::Column> fields;
        for (const FieldPlan& plan : plans) fields.push_back(text::make_categorical(plan.name));
        auto label = text::make_numeric("click", RECPRUNE_COLUMN_ROLE_LABEL);
        auto time = text::make_numeric("timestamp", RECPRUNE_COLUMN_ROLE_TIMESTAMP);
        user.keys.reserve(rows_);
        item.keys.reserve(rows_);
        for (auto& column : fields) column.keys.reserve(rows_);
        label.numeric.reserve(rows_);
        time.numeric.reserve(rows_);

        std::vector<uint64_t> informative_values(informative_);
        uint64_t positives = 0;
        for (uint64_t row = 0; row < rows_; ++row) {
            const uint64_t user_id = random.below(users_);
            // Squaring a uniform draw makes low item ids (the popular ones) more frequent.
            double draw = random.uniform();
            const uint64_t item_id =
                std::min<uint64_t>(items_ - 1, static_cast<uint64_t>(draw * draw * items_));
            double logit = bias_;
            for (size_t d = 0; d < latent_dim_; ++d) {
                logit += affinity_ * user_vectors[user_id * latent_dim_ + d] *
                         item_vectors[item_id * latent_dim_ + d];
            }
            for (size_t index = 0; index < informative_; ++index)
                informative_values[index] = random.below(cardinality_);
            for (size_t index = 0; index < plans.size(); ++index) {
                const FieldPlan& plan = plans[index];
                uint64_t value = 0;
                switch (plan.kind) {
                    case Kind::Informative:
                        value = informative_values[plan.source];
                        logit += plan.weights[value];
                        break;
                    case Kind::ExactCopy:
                        value = plan.relabel[informative_values[plan.source]];
                        break;
                    case Kind::NoisyCopy:
                        value = random.uniform() < copy_noise_
                                    ? random.below(cardinality_)
                                    : plan.relabel[informative_values[plan.source]];
                        break;
                    case Kind::Noise:
                        value = random.below(cardinality_);
                        break;
                    case Kind::Rare:
                        // Singletons get keys above every common value: 1000 + row is unique.
                        value = random.uniform() < rare_rate_ ? 1000 + row : random.below(5);
                        break;
                }
                fields[index].keys.push_back(value);
            }
            const double probability = 1.0 / (1.0 + std::exp(-logit));
            const bool click = random.uniform() < probability;
            positives += click;
            user.keys.push_back(user_id);
            item.keys.push_back(item_id);
            label.numeric.push_back(click ? 1.0 : 0.0);
            time.numeric.push_back(static_cast<double>(row));
        }

        table.columns.push_back(std::move(user));
        table.columns.push_back(std::move(item));
        for (auto& column : fields) table.columns.push_back(std::move(column));
        table.columns.push_back(std::move(label));
        table.columns.push_back(std::move(time));
        table.metadata = metadata(plans, positives);
        return table;
    }

private:
    // Chooses every field's kind, weights and relabelling, then shuffles the names.
    std::vector<FieldPlan> plan_fields(Random& random) const {
        std::vector<FieldPlan> plans;
        for (size_t index = 0; index < informative_; ++index) {
            FieldPlan plan{Kind::Informative, index};
            plan.weight_scale = signal_ / std::sqrt(static_cast<double>(index + 1));
            for (uint64_t value = 0; value < cardinality_; ++value)
                plan.weights.push_back(random.normal() * plan.weight_scale);
            plans.push_back(std::move(plan));
        }
        auto add_copies = [&](Kind kind, uint64_t count) {
            for (uint64_t copy = 0; copy < count; ++copy) {
                FieldPlan plan{kind, copy % informative_};
                plan.relabel.resize(cardinality_);
                std::iota(plan.relabel.begin(), plan.relabel.end(), uint64_t{0});
                for (uint64_t index = cardinality_; index > 1; --index) {
                    std::swap(plan.relabel[index - 1], plan.relabel[random.below(index)]);
                }
                plans.push_back(std::move(plan));
            }
        };
        add_copies(Kind::ExactCopy, exact_copies_);
        add_copies(Kind::NoisyCopy, noisy_copies_);
        for (uint64_t index = 0; index < noise_fields_; ++index)
            plans.push_back(FieldPlan{Kind::Noise});
        for (uint64_t index = 0; index < rare_fields_; ++index)
            plans.push_back(FieldPlan{Kind::Rare});

        // Names in a shuffled order; the plans keep their order so copies can find sources.
        std::vector<size_t> order(plans.size());
        std::iota(order.begin(), order.end(), size_t{0});
        for (size_t index = order.size(); index > 1; --index)
            std::swap(order[index - 1], order[random.below(index)]);
        for (size_t index = 0; index < plans.size(); ++index) {
            std::string number = std::to_string(order[index]);
            plans[index].name =
                "field_" + std::string(number.size() < 2 ? 2 - number.size() : 0, '0') + number;
        }
        return plans;
    }

    json metadata(const std::vector<FieldPlan>& plans, uint64_t positives) const {
        json truth = json::object();
        json fields = json::object();
        std::vector<std::pair<double, std::string>> importance;
        for (const FieldPlan& plan : plans) {
            json entry = {{"kind", kind_name(plan.kind)}};
            if (plan.kind == Kind::Informative) {
                entry["weight_scale"] = plan.weight_scale;
                importance.emplace_back(plan.weight_scale, plan.name);
            }
            if (plan.kind == Kind::ExactCopy || plan.kind == Kind::NoisyCopy) {
                entry["source"] = plans[plan.source].name;
                entry["noise"] = plan.kind == Kind::ExactCopy ? 0.0 : copy_noise_;
            }
            fields[plan.name] = std::move(entry);
        }
        std::sort(importance.begin(), importance.end(),
                  [](const auto& a, const auto& b) { return a.first > b.first; });
        json informative = json::array();
        for (const auto& [scale, name] : importance) informative.push_back(name);
        auto names_of = [&](Kind kind) {
            json names = json::array();
            for (const FieldPlan& plan : plans) {
                if (plan.kind == kind) names.push_back(plan.name);
            }
            return names;
        };
        truth["fields"] = std::move(fields);
        truth["informative_by_importance"] = std::move(informative);
        truth["exact_copies"] = names_of(Kind::ExactCopy);
        truth["noisy_copies"] = names_of(Kind::NoisyCopy);
        truth["noise"] = names_of(Kind::Noise);
        truth["rare"] = names_of(Kind::Rare);
        truth["user_item_affinity"] = affinity_;
        truth["bias"] = bias_;

        json metadata = json::object();
        metadata["task_hint"] = "ctr";
        metadata["positive_threshold"] = 1;
        metadata["truth"] = std::move(truth);
        metadata["positive_rate"] = static_cast<double>(positives) / static_cast<double>(rows_);
        metadata["skipped_lines"] = 0;
        metadata["parameters"] = params_;
        return metadata;
    }

    recprune::Host host_;
    json params_;
    uint64_t rows_, users_, items_, latent_dim_, informative_, exact_copies_, noisy_copies_;
    uint64_t noise_fields_, rare_fields_, cardinality_, seed_;
    double affinity_, copy_noise_, rare_rate_, signal_, bias_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(Synthetic, "synthetic", "1.0.0",
                         "generated clicks with known informative, redundant, noise and rare "
                         "fields",
                         kSchema)
