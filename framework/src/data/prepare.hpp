// From a raw table to what models train on: split, vocabularies and statistics fitted on the
// training part only, numeric handling, labels for the task.
#pragma once

#include "data/raw_table.hpp"
#include "data/settings.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace recprune::data {

/// A model input field (a feature with an embedding table).
struct FieldInfo {
    std::string name;
    /// Rows of the field's embedding table, including the out-of-vocabulary row 0.
    uint32_t vocabulary_size = 1;
    bool multi_hot = false;
    /// OR of recprune_column_role_t flags of the source column.
    uint32_t roles = 0;
};

/// One part (train, validation or test), columnar.
struct Part {
    uint64_t row_count = 0;
    /// Per field: vocabulary indices, one per row, or CSR values for a multi-hot field.
    std::vector<std::vector<uint32_t>> ids;
    /// Per field: empty for single-valued fields, else row_count + 1 offsets into ids.
    std::vector<std::vector<uint64_t>> offsets;
    /// Row-major [row_count, dense_count].
    std::vector<float> dense;
    /// Task target: 0/1 for "ctr" and "topk", the rating for "rating".
    std::vector<float> labels;
    /// Per row: index of the user (item). Users seen in training have their index in the
    /// user field's vocabulary (when the user column is a feature); every other user gets a
    /// distinct index at or above that vocabulary's size, so per-user metrics never merge
    /// users. Empty when the dataset has no user (item) column.
    std::vector<uint32_t> users;
    std::vector<uint32_t> items;
};

struct PreparedData {
    std::string task;
    /// The settings prepare() was given; the trainer reads the top-K ones.
    DataSettings settings;
    /// The model's input fields (feature columns that are categorical, multi-hot or numeric
    /// bucketed into tokens), in table order.
    std::vector<FieldInfo> fields;
    /// Numeric features passed as dense inputs ("log1p", "standardize").
    uint32_t dense_count = 0;
    std::vector<std::string> dense_names;
    Part train, validation, test;
    std::string fingerprint;
    /// Row counts, out-of-vocabulary counts per part and field, skipped lines, the resolved
    /// settings and threshold, and the plugin's own metadata under "plugin".
    boost::json::object metadata;

    /// Returns the data schema passed to a model's create(): {"task", "fields": [{"name",
    /// "vocabulary_size", "multi_hot", "roles": [...]}], "dense_count"}.
    std::string schema_json() const;
};

/// Splits `table`, fits vocabularies and numeric statistics on the training part only and maps
/// every part through them. Throws ConfigError for settings the table cannot satisfy (a time
/// split without timestamps) and DataError for data that cannot serve the task (no label,
/// a missing label, labels that are not 0/1 without a threshold).
PreparedData prepare(const RawTable& table, const DataSettings& settings);

}  // namespace recprune::data
