// Reading a model's parameters against its parameter schema, so that each default is written
// once (in the schema the plugin registers) and every value is checked before use.
#pragma once

#include "recprune/sdk.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace recprune::nn {

/// Parameters of one plugin instance with the schema's defaults filled in. The host validates
/// parameters before create(); the checks here repeat that for plugins used without the host.
class Params {
public:
    /// Parses `schema_text` ({"parameters": {NAME: {"type", "default", ...}}}) and merges
    /// `params` over its defaults. Throws InvalidArgument on an unknown name, a wrong type or a
    /// value outside "minimum"/"maximum"/"enum".
    Params(const char* schema_text, const json& params)
        : schema_(json::parse(schema_text).at("parameters")) {
        if (!params.is_null() && !params.is_object()) {
            throw InvalidArgument("invalid parameters: expected a JSON object, got " +
                                  params.dump() + "; pass {\"name\": value, ...}");
        }
        for (const auto& [name, spec] : schema_.items()) {
            if (spec.contains("default")) values_[name] = spec["default"];
        }
        if (params.is_object()) {
            for (const auto& [name, value] : params.items()) {
                if (!schema_.contains(name)) {
                    throw InvalidArgument("invalid parameter: " + name + ": unknown name; "
                                          "the plugin's schema lists the valid names");
                }
                check(name, schema_[name], value);
                values_[name] = value;
            }
        }
    }

    int64_t integer(const std::string& name) const { return get(name).get<int64_t>(); }
    double number(const std::string& name) const { return get(name).get<double>(); }
    bool boolean(const std::string& name) const { return get(name).get<bool>(); }
    std::string string(const std::string& name) const { return get(name).get<std::string>(); }
    std::vector<int64_t> integers(const std::string& name) const {
        return get(name).get<std::vector<int64_t>>();
    }

    /// Returns every parameter with defaults filled in (what save() records).
    const json& values() const { return values_; }

private:
    const json& get(const std::string& name) const {
        if (!values_.contains(name)) {
            throw InvalidArgument("invalid parameter: " + name + ": missing and the schema has "
                                  "no default; set it in the grid");
        }
        return values_.at(name);
    }

    static bool has_type(const std::string& type, const json& value) {
        if (type == "integer") return value.is_number_integer();
        if (type == "number") return value.is_number();
        if (type == "string") return value.is_string();
        if (type == "boolean") return value.is_boolean();
        if (type == "array") return value.is_array();
        if (type == "object") return value.is_object();
        return false;
    }

    static void check_range(const std::string& where, const json& spec, const json& value) {
        if (!value.is_number()) return;
        const double x = value.get<double>();
        if (spec.contains("minimum") && x < spec["minimum"].get<double>()) {
            throw InvalidArgument("invalid parameter: " + where + ": " + value.dump() +
                                  " is below the minimum " + spec["minimum"].dump() +
                                  "; raise it");
        }
        if (spec.contains("maximum") && x > spec["maximum"].get<double>()) {
            throw InvalidArgument("invalid parameter: " + where + ": " + value.dump() +
                                  " is above the maximum " + spec["maximum"].dump() +
                                  "; lower it");
        }
    }

    static void check(const std::string& name, const json& spec, const json& value) {
        const std::string type = spec.value("type", "");
        if (!has_type(type, value)) {
            throw InvalidArgument("invalid parameter: " + name + ": " + value.dump() +
                                  " is not of type " + type + "; give a " + type);
        }
        check_range(name, spec, value);
        if (spec.contains("enum")) {
            bool listed = false;
            for (const json& option : spec["enum"]) listed = listed || option == value;
            if (!listed) {
                throw InvalidArgument("invalid parameter: " + name + ": " + value.dump() +
                                      " is not one of " + spec["enum"].dump() +
                                      "; pick one of those");
            }
        }
        if (type == "array" && spec.contains("items")) {
            const std::string item_type = spec["items"].value("type", "");
            for (size_t i = 0; i < value.size(); ++i) {
                const std::string where = name + "[" + std::to_string(i) + "]";
                if (!has_type(item_type, value[i])) {
                    throw InvalidArgument("invalid parameter: " + where + ": " +
                                          value[i].dump() + " is not of type " + item_type +
                                          "; give a " + item_type);
                }
                check_range(where, spec["items"], value[i]);
            }
        }
    }

    json schema_;
    json values_ = json::object();
};

}  // namespace recprune::nn
