// Compaction plans and the copies that build a physically smaller model from a masked one.
//
// A plan is {"removed_fields": [f...], "kept_embedding_dims": [d...], "kept_neurons":
// {"mlp.0": [j...]}, "row_remap": {"<field>": [new row for each old row, 0 for pruned]}}; every
// key is optional. The compacted model computes what the masked model computes, because every
// weight it drops is one the masks zeroed.
#pragma once

#include "recprune/nn/config.hpp"
#include "recprune/sdk.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace recprune::nn {

/// Returns 0, 1, ..., count - 1.
inline std::vector<uint32_t> iota_indices(uint32_t count) {
    std::vector<uint32_t> indices(count);
    std::iota(indices.begin(), indices.end(), 0u);
    return indices;
}

/// A parsed and checked compaction plan.
class CompactionPlan {
public:
    /// Parses `plan` for a model built from `config` whose embedding width is
    /// `embedding_dim` (0 when it has no shared embedding width) and whose prunable layers
    /// have the neuron counts in `layer_sizes`. Throws InvalidArgument naming the bad entry.
    CompactionPlan(const json& plan, const ModelConfig& config, uint32_t embedding_dim,
                   const std::map<std::string, uint32_t>& layer_sizes)
        : removed_fields_(config.removed_fields) {
        const auto field_count = static_cast<uint32_t>(config.schema.fields.size());
        for (const json& entry : plan.value("removed_fields", json::array())) {
            const uint32_t f = entry.get<uint32_t>();
            if (f >= field_count) fail("removed_fields", f, field_count, "fields");
            removed_fields_[f] = true;
        }
        if (plan.contains("kept_embedding_dims")) {
            if (embedding_dim == 0) {
                throw InvalidArgument("invalid compaction plan: kept_embedding_dims: this model "
                                      "has no shared embedding dimension; leave the key out");
            }
            kept_dims_ = parse_indices(plan["kept_embedding_dims"], embedding_dim,
                                       "kept_embedding_dims");
        }
        // The json objects outlive the loops over their items() (a temporary would not).
        const json kept_neurons = plan.value("kept_neurons", json::object());
        const json row_remaps = plan.value("row_remap", json::object());
        for (const auto& [layer, entry] : kept_neurons.items()) {
            const auto size = layer_sizes.find(layer);
            if (size == layer_sizes.end()) {
                throw InvalidArgument("invalid compaction plan: kept_neurons." + layer +
                                      ": no such layer; use a layer name from the structure");
            }
            kept_neurons_[layer] =
                parse_indices(entry, size->second, "kept_neurons." + layer);
        }
        for (const auto& [key, entry] : row_remaps.items()) {
            const uint32_t f = parse_field_key(key, field_count);
            row_remap_[f] = parse_remap(entry, config.schema.fields[f].vocabulary_size, key);
        }
    }

    bool removed(uint32_t field) const { return removed_fields_[field]; }
    const std::vector<bool>& removed_fields() const { return removed_fields_; }

    /// Returns the kept embedding dimensions, all of them when the plan lists none.
    std::vector<uint32_t> kept_dims(uint32_t embedding_dim) const {
        return kept_dims_ ? *kept_dims_ : iota_indices(embedding_dim);
    }

    /// Returns the kept neurons of `layer`, all `count` of them when the plan lists none.
    std::vector<uint32_t> kept_neurons(const std::string& layer, uint32_t count) const {
        const auto it = kept_neurons_.find(layer);
        return it == kept_neurons_.end() ? iota_indices(count) : it->second;
    }

    /// Old row -> new row for `field`, or nullptr for the identity.
    const std::vector<uint32_t>* row_remap(uint32_t field) const {
        const auto it = row_remap_.find(field);
        return it == row_remap_.end() ? nullptr : &it->second;
    }

    /// Vocabulary size of `field` after the remap.
    uint32_t new_vocabulary_size(uint32_t field, uint32_t old_size) const {
        const std::vector<uint32_t>* remap = row_remap(field);
        if (remap == nullptr) return old_size;
        return *std::max_element(remap->begin(), remap->end()) + 1;
    }

private:
    [[noreturn]] static void fail(const std::string& key, uint64_t value, uint64_t limit,
                                  const char* what) {
        throw InvalidArgument("invalid compaction plan: " + key + ": " + std::to_string(value) +
                              " is outside the " + std::to_string(limit) + " " + what +
                              " of the model; use indices from the model's structure");
    }

    static uint32_t parse_field_key(const std::string& key, uint32_t field_count) {
        size_t used = 0;
        unsigned long f = 0;
        try {
            f = std::stoul(key, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != key.size() || key.empty()) {
            throw InvalidArgument("invalid compaction plan: row_remap.\"" + key + "\": the key "
                                  "is not a field index; key the remap by field index");
        }
        if (f >= field_count) fail("row_remap." + key, f, field_count, "fields");
        return static_cast<uint32_t>(f);
    }

    /// Parses a non-empty, strictly increasing list of indices below `limit`.
    static std::vector<uint32_t> parse_indices(const json& entry, uint32_t limit,
                                               const std::string& key) {
        std::vector<uint32_t> indices = entry.get<std::vector<uint32_t>>();
        if (indices.empty()) {
            throw InvalidArgument("invalid compaction plan: " + key + ": empty; keep at least "
                                  "one unit (remove a whole field with removed_fields)");
        }
        for (size_t i = 0; i < indices.size(); ++i) {
            if (indices[i] >= limit) fail(key, indices[i], limit, "units");
            if (i > 0 && indices[i] <= indices[i - 1]) {
                throw InvalidArgument("invalid compaction plan: " + key + ": indices must be "
                                      "strictly increasing, found " +
                                      std::to_string(indices[i]) + " after " +
                                      std::to_string(indices[i - 1]) + "; sort them");
            }
        }
        return indices;
    }

    /// Parses a remap of `rows` entries whose nonzero targets are distinct and below `rows`.
    static std::vector<uint32_t> parse_remap(const json& entry, uint32_t rows,
                                             const std::string& key) {
        std::vector<uint32_t> remap = entry.get<std::vector<uint32_t>>();
        const std::string where = "row_remap." + key;
        if (remap.size() != rows) {
            throw InvalidArgument("invalid compaction plan: " + where + ": " +
                                  std::to_string(remap.size()) + " entries for a table of " +
                                  std::to_string(rows) + " rows; give one new row per old row");
        }
        if (remap[0] != 0) {
            throw InvalidArgument("invalid compaction plan: " + where + "[0]: " +
                                  std::to_string(remap[0]) + ", but the out-of-vocabulary row "
                                  "0 must stay row 0; map it to 0");
        }
        std::vector<uint8_t> taken(rows, 0);
        for (uint32_t old_row = 1; old_row < rows; ++old_row) {
            const uint32_t new_row = remap[old_row];
            if (new_row == 0) continue;
            if (new_row >= rows) fail(where, new_row, rows, "rows");
            if (taken[new_row]) {
                throw InvalidArgument("invalid compaction plan: " + where + "[" +
                                      std::to_string(old_row) + "]: new row " +
                                      std::to_string(new_row) + " is already the target of "
                                      "another row; give each kept row its own new row");
            }
            taken[new_row] = 1;
        }
        return remap;
    }

    std::vector<bool> removed_fields_;
    std::optional<std::vector<uint32_t>> kept_dims_;
    std::map<std::string, std::vector<uint32_t>> kept_neurons_;
    std::map<uint32_t, std::vector<uint32_t>> row_remap_;
};

/// Copies embedding table `from` [rows, dim] into `to` [new rows, columns.size()]: old row r
/// goes to row remap[r] (or r without a remap), keeping only `columns`. Rows mapped to 0 other
/// than row 0 are pruned rows, which the host already sends to row 0, so they are dropped.
inline void copy_embedding(const Tensor& from, Tensor& to, const std::vector<uint32_t>* remap,
                           const std::vector<uint32_t>& columns) {
    const uint64_t rows = from.shape()[0];
    const uint64_t dim = from.shape().size() > 1 ? from.shape()[1] : 1;
    const uint64_t new_dim = columns.size();
    for (uint64_t row = 0; row < rows; ++row) {
        const uint64_t new_row = remap ? (*remap)[row] : row;
        if (row != 0 && new_row == 0) continue;
        for (uint64_t c = 0; c < new_dim; ++c) {
            to.data()[new_row * new_dim + c] = from.data()[row * dim + columns[c]];
        }
    }
}

/// Copies matrix `from` [outputs, inputs] into `to` [rows.size(), columns.size()], keeping
/// the listed rows and columns. A rank-1 tensor (a bias) is copied along `rows` only.
inline void copy_matrix(const Tensor& from, Tensor& to, const std::vector<uint32_t>& rows,
                        const std::vector<uint32_t>& columns) {
    if (from.shape().size() == 1) {
        for (size_t i = 0; i < rows.size(); ++i) to.data()[i] = from.data()[rows[i]];
        return;
    }
    const uint64_t inputs = from.shape()[1];
    for (size_t i = 0; i < rows.size(); ++i) {
        for (size_t j = 0; j < columns.size(); ++j) {
            to.data()[i * columns.size() + j] = from.data()[rows[i] * inputs + columns[j]];
        }
    }
}

}  // namespace recprune::nn
