// The similarity pruner: feature-similarity-based field pruning. It measures how redundant each
// pair of fields is and removes fields greedily. Among the fields still kept, it takes the most
// similar pair and drops the member more similar on average to the other kept fields. It repeats
// until one field is left. A field's score is its place in that removal order, so the first removed is
// pruned first. This is the redundancy elimination of Mitra, Murthy and Pal, "Unsupervised
// Feature Selection Using Feature Similarity", IEEE TPAMI 24(3), 2002, with cosine similarity in
// place of their maximal information compression index.
//
// Similarity of fields f and g, mode "embedding": |cos| between their pooled embedding outputs
// over the same training rows, flattened to one vector per field (mean-centred per dimension
// by default). Mode "one_hot": for the one-hot columns a of f and b of g over the rows,
// cos(a, b) = n_ab / sqrt(n_a n_b); r(f, g) = sum over a of (n_a / n) max over b of cos(a, b)
// with n the sum of all n_a, and the similarity is (r(f, g) + r(g, f)) / 2, which is 1 for two fields that are copies.
#include "../common/pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using recprune::json;
using namespace recprune::pruners;

constexpr const char* kSchema = R"json({"parameters": {
  "mode": {"type": "string", "default": "embedding", "enum": ["embedding", "one_hot"],
    "help": "embedding compares the fields' pooled embedding outputs; one_hot compares their one-hot columns in the training data"},
  "sample_rows": {"type": "integer", "default": 4096, "minimum": 1,
    "help": "Number of training rows (the first ones) the similarities are measured on"},
  "center": {"type": "boolean", "default": true,
    "help": "embedding mode: subtract each field's mean output over the rows before the cosine, so a constant offset does not count as similarity"}
}})json";

using Matrix = std::vector<std::vector<double>>;

/// Returns the removal order score per field from a symmetric similarity matrix. Fields marked
/// absent (already removed, zero output) come first.
std::vector<double> removal_scores(const Matrix& similarity, const std::vector<bool>& absent) {
    size_t count = similarity.size();
    std::vector<double> scores(count, 0.0);
    std::vector<bool> kept(count, false);
    double next_score = 0.0;
    for (size_t field = 0; field < count; ++field) {
        if (absent[field]) {
            scores[field] = next_score++;
        } else {
            kept[field] = true;
        }
    }

    auto mean_similarity = [&](size_t field) {
        double sum = 0.0;
        size_t others = 0;
        for (size_t other = 0; other < count; ++other) {
            if (other == field || !kept[other]) continue;
            sum += similarity[field][other];
            ++others;
        }
        return others == 0 ? 0.0 : sum / static_cast<double>(others);
    };

    size_t kept_count = static_cast<size_t>(std::count(kept.begin(), kept.end(), true));
    while (kept_count > 1) {
        // Find the kept pair of maximum similarity; the first pair in index order wins a tie.
        size_t best_f = 0;
        size_t best_g = 0;
        double best = -1.0;
        for (size_t f = 0; f < count; ++f) {
            if (!kept[f]) continue;
            for (size_t g = f + 1; g < count; ++g) {
                if (kept[g] && similarity[f][g] > best) {
                    best = similarity[f][g];
                    best_f = f;
                    best_g = g;
                }
            }
        }
        // Drop the member more redundant with the rest; on a tie keep the lower index.
        size_t dropped = mean_similarity(best_f) > mean_similarity(best_g) ? best_f : best_g;
        kept[dropped] = false;
        scores[dropped] = next_score++;
        --kept_count;
    }
    for (size_t field = 0; field < count; ++field) {
        if (kept[field]) scores[field] = next_score++;
    }
    return scores;
}

/// Scores fields by the order of greedy redundancy elimination.
class SimilarityPruner : public recprune::Pruner {
public:
    SimilarityPruner(const recprune::Host& /*host*/, const json& params, uint64_t /*seed*/)
        : one_hot_(parse_mode(params.value("mode", "embedding"))),
          sample_rows_(params.value("sample_rows", uint64_t{4096})),
          center_(params.value("center", true)) {
        if (sample_rows_ == 0) {
            throw recprune::InvalidArgument(
                "invalid parameter: sample_rows: 0 is not positive; give at least 1");
        }
    }

    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_FIELD);
    }

    void score(const recprune::PruneContext& context, std::span<double> scores) override {
        check_granularity(context, RECPRUNE_GRANULARITY_FIELD);
        std::vector<Block> blocks = parse_blocks(context.units());
        const recprune_data_view_t& data = context.train_data();
        uint64_t rows = std::min(sample_rows_, data.row_count);
        for (const Block& block : blocks) {
            if (block.field >= data.field_count) {
                throw recprune::InvalidArgument(
                    "invalid prune context: field " + block.name + " has index " +
                    std::to_string(block.field) + ", the data has " +
                    std::to_string(data.field_count) + " fields; the model and data disagree");
            }
        }

        std::vector<bool> absent(blocks.size(), false);
        Matrix similarity = one_hot_ ? one_hot_similarity(data, blocks, rows)
                                     : embedding_similarity(context, blocks, rows, absent);
        std::vector<double> order = removal_scores(similarity, absent);
        for (size_t index = 0; index < blocks.size(); ++index) {
            scores[blocks[index].offset] = order[index];
        }
    }

private:
    static bool parse_mode(const std::string& text) {
        if (text == "one_hot") return true;
        if (text == "embedding") return false;
        throw recprune::InvalidArgument("invalid parameter: mode: \"" + text +
                                        "\" is not one of embedding, one_hot; pick one of these");
    }

    Matrix embedding_similarity(const recprune::PruneContext& context,
                                const std::vector<Block>& blocks, uint64_t rows,
                                std::vector<bool>& absent) const {
        uint32_t width = 0;
        std::vector<float> outputs = context.field_embeddings(0, rows, width);
        uint64_t length = rows * width;

        // One vector per unit: the field's outputs over the rows, centred per dimension.
        std::vector<std::vector<double>> vectors(blocks.size());
        std::vector<double> norms(blocks.size(), 0.0);
        for (size_t index = 0; index < blocks.size(); ++index) {
            const float* field_outputs = outputs.data() + blocks[index].field * length;
            std::vector<double>& vector = vectors[index];
            vector.assign(field_outputs, field_outputs + length);
            if (center_ && rows > 0) {
                for (uint32_t dim = 0; dim < width; ++dim) {
                    double mean = 0.0;
                    for (uint64_t row = 0; row < rows; ++row) mean += vector[row * width + dim];
                    mean /= static_cast<double>(rows);
                    for (uint64_t row = 0; row < rows; ++row) vector[row * width + dim] -= mean;
                }
            }
            double squares = 0.0;
            for (double value : vector) squares += value * value;
            norms[index] = std::sqrt(squares);
            absent[index] = norms[index] == 0.0;
        }

        Matrix similarity(blocks.size(), std::vector<double>(blocks.size(), 0.0));
        for (size_t f = 0; f < blocks.size(); ++f) {
            for (size_t g = f + 1; g < blocks.size(); ++g) {
                if (absent[f] || absent[g]) continue;
                double dot = 0.0;
                for (uint64_t i = 0; i < length; ++i) dot += vectors[f][i] * vectors[g][i];
                double cosine = std::fabs(dot) / (norms[f] * norms[g]);
                similarity[f][g] = cosine;
                similarity[g][f] = cosine;
            }
        }
        return similarity;
    }

    static std::vector<uint32_t> row_values(const recprune_data_view_t& data, uint32_t field,
                                            uint64_t row) {
        const uint32_t* ids = data.ids[field];
        const uint64_t* offsets = data.offsets != nullptr ? data.offsets[field] : nullptr;
        if (offsets == nullptr) return {ids[row]};
        std::vector<uint32_t> values(ids + offsets[row], ids + offsets[row + 1]);
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        return values;
    }

    static Matrix one_hot_similarity(const recprune_data_view_t& data,
                                     const std::vector<Block>& blocks, uint64_t rows) {
        // Per field: the distinct values of every row, and how many rows hold each value.
        size_t count = blocks.size();
        std::vector<std::vector<std::vector<uint32_t>>> values(count);
        std::vector<std::unordered_map<uint32_t, double>> value_rows(count);
        for (size_t index = 0; index < count; ++index) {
            values[index].resize(rows);
            for (uint64_t row = 0; row < rows; ++row) {
                values[index][row] = row_values(data, blocks[index].field, row);
                for (uint32_t value : values[index][row]) value_rows[index][value] += 1.0;
            }
        }

        Matrix similarity(count, std::vector<double>(count, 0.0));
        for (size_t f = 0; f < count; ++f) {
            for (size_t g = f + 1; g < count; ++g) {
                double value = (redundancy(values[f], values[g], value_rows[f], value_rows[g]) +
                                redundancy(values[g], values[f], value_rows[g], value_rows[f])) /
                               2.0;
                similarity[f][g] = value;
                similarity[g][f] = value;
            }
        }
        return similarity;
    }

    /// Returns r(f, g) = sum over values a of f of (n_a / n) max over b of n_ab / sqrt(n_a n_b),
    /// where n is the sum of n_a, so r is at most 1 for multi-valued fields too.
    static double redundancy(const std::vector<std::vector<uint32_t>>& f_values,
                             const std::vector<std::vector<uint32_t>>& g_values,
                             const std::unordered_map<uint32_t, double>& f_rows,
                             const std::unordered_map<uint32_t, double>& g_rows) {
        std::unordered_map<uint64_t, double> pair_rows;
        for (uint64_t row = 0; row < f_values.size(); ++row) {
            for (uint32_t a : f_values[row]) {
                for (uint32_t b : g_values[row]) {
                    pair_rows[(static_cast<uint64_t>(a) << 32) | b] += 1.0;
                }
            }
        }
        std::unordered_map<uint32_t, double> best;
        for (const auto& [key, together] : pair_rows) {
            uint32_t a = static_cast<uint32_t>(key >> 32);
            uint32_t b = static_cast<uint32_t>(key & 0xffffffffULL);
            double cosine = together / std::sqrt(f_rows.at(a) * g_rows.at(b));
            double& current = best[a];
            current = std::max(current, cosine);
        }
        double total = 0.0;
        double sum = 0.0;
        for (const auto& [a, n_a] : f_rows) {
            total += n_a;
            auto found = best.find(a);
            if (found != best.end()) sum += n_a * found->second;
        }
        return total == 0.0 ? 0.0 : sum / total;
    }

    bool one_hot_;
    uint64_t sample_rows_;
    bool center_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(SimilarityPruner, "similarity", "1.0.0",
                         "Feature-similarity pruning: fields most redundant with a kept one first",
                         kSchema)
