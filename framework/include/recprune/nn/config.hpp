// What a model is built from: the data schema the host passes to create() and the resolved
// parameters, plus the fields a compaction removed. save() writes this and load() rebuilds
// the architecture from it before reading the weights.
#pragma once

#include "recprune/sdk.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace recprune::nn {

/// One FEATURE field of the data, in batch order.
struct FieldSpec {
    std::string name;
    /// Rows of the field's tables, including the out-of-vocabulary row 0.
    uint32_t vocabulary_size = 0;
    bool multi_hot = false;
    bool is_user = false;
    bool is_item = false;
};

/// The schema JSON the host passes to create(): {"task", "fields": [{"name",
/// "vocabulary_size", "multi_hot", "roles"}], "dense_count"}.
struct DataSchema {
    std::string task;
    std::vector<FieldSpec> fields;
    uint32_t dense_count = 0;

    /// Parses and checks the schema; throws InvalidArgument naming the bad entry.
    static DataSchema parse(const json& schema) {
        DataSchema out;
        out.task = schema.value("task", "ctr");
        out.dense_count = schema.value("dense_count", 0u);
        if (!schema.contains("fields") || !schema["fields"].is_array()) {
            throw InvalidArgument("invalid schema: $.fields: missing or not an array; the host "
                                  "passes {\"task\", \"fields\": [...], \"dense_count\"}");
        }
        for (size_t i = 0; i < schema["fields"].size(); ++i) {
            const json& entry = schema["fields"][i];
            FieldSpec field;
            field.name = entry.at("name").get<std::string>();
            field.vocabulary_size = entry.at("vocabulary_size").get<uint32_t>();
            field.multi_hot = entry.value("multi_hot", false);
            for (const json& role : entry.value("roles", json::array())) {
                field.is_user = field.is_user || role == "user";
                field.is_item = field.is_item || role == "item";
            }
            if (field.vocabulary_size == 0) {
                throw InvalidArgument("invalid schema: $.fields[" + std::to_string(i) +
                                      "].vocabulary_size: 0 for field " + field.name +
                                      "; a vocabulary has at least the out-of-vocabulary row");
            }
            out.fields.push_back(std::move(field));
        }
        return out;
    }

    json to_json() const {
        json fields_json = json::array();
        for (const FieldSpec& field : fields) {
            json roles = json::array({"feature"});
            if (field.is_user) roles.push_back("user");
            if (field.is_item) roles.push_back("item");
            fields_json.push_back({{"name", field.name},
                                   {"vocabulary_size", field.vocabulary_size},
                                   {"multi_hot", field.multi_hot},
                                   {"roles", roles}});
        }
        return {{"task", task}, {"fields", fields_json}, {"dense_count", dense_count}};
    }

    /// Returns the index of the first field carrying the role "user" (or "item"), if any.
    std::optional<uint32_t> find_role(bool user) const {
        for (uint32_t f = 0; f < fields.size(); ++f) {
            if (user ? fields[f].is_user : fields[f].is_item) return f;
        }
        return std::nullopt;
    }
};

/// Everything that fixes a model's architecture. A compacted model keeps the batch layout of
/// the original, so a removed field keeps its index and is skipped.
struct ModelConfig {
    /// Parameters with defaults filled in; a compaction rewrites the sizes it changes.
    json params = json::object();
    DataSchema schema;
    /// One flag per schema field.
    std::vector<bool> removed_fields;

    static ModelConfig make(json params, const json& schema) {
        ModelConfig config;
        config.params = std::move(params);
        config.schema = DataSchema::parse(schema);
        config.removed_fields.assign(config.schema.fields.size(), false);
        return config;
    }

    bool active(uint32_t field) const { return !removed_fields[field]; }

    json to_json() const {
        json removed = json::array();
        for (uint32_t f = 0; f < removed_fields.size(); ++f) {
            if (removed_fields[f]) removed.push_back(f);
        }
        return {{"params", params}, {"schema", schema.to_json()}, {"removed_fields", removed}};
    }

    static ModelConfig from_json(const json& value) {
        ModelConfig config = make(value.at("params"), value.at("schema"));
        for (const json& field : value.at("removed_fields")) {
            const uint32_t f = field.get<uint32_t>();
            if (f >= config.removed_fields.size()) {
                throw InvalidArgument("invalid model file: removed field " + std::to_string(f) +
                                      " is outside the " +
                                      std::to_string(config.removed_fields.size()) +
                                      " fields of the schema; the file is damaged");
            }
            config.removed_fields[f] = true;
        }
        return config;
    }
};

}  // namespace recprune::nn
