#include "report/columns.hpp"

#include "core/join.hpp"
#include "core/json_io.hpp"

#include <charconv>
#include <map>
#include <set>

namespace recprune::report {
namespace {

/// Returns the parameters of a plugin object: its "params" object, or for objects without one
/// (schedules) every key except "name" and "version".
boost::json::object parameters_of(const boost::json::object& plugin) {
    if (const auto* params = plugin.if_contains("params"); params && params->is_object()) {
        return params->as_object();
    }
    boost::json::object params;
    for (const auto& [key, value] : plugin) {
        if (key != "name" && key != "version") params[key] = value;
    }
    return params;
}

std::string value_text(const boost::json::value& value) {
    if (value.is_string()) return std::string(value.as_string());
    if (value.is_number()) return number_text(json_io::as_double(value));
    return json_io::serialize(value);
}

bool is_plugin_object(const boost::json::value* value) {
    if (value == nullptr || !value->is_object()) return false;
    const auto* name = value->as_object().if_contains("name");
    return name != nullptr && name->is_string();
}

/// Returns, per plugin name, the parameter keys whose values differ between the rows.
std::map<std::string, std::set<std::string>> varying_parameters(
    const std::vector<const boost::json::value*>& values) {
    std::map<std::string, std::map<std::string, std::set<std::string>>> seen;
    std::map<std::string, std::map<std::string, size_t>> present;
    std::map<std::string, size_t> rows_per_name;
    for (const auto* value : values) {
        if (!is_plugin_object(value)) continue;
        std::string name(value->as_object().at("name").as_string());
        ++rows_per_name[name];
        for (const auto& [key, param] : parameters_of(value->as_object())) {
            seen[name][std::string(key)].insert(json_io::serialize(param));
            ++present[name][std::string(key)];
        }
    }

    // A key that some rows of the name lack differs too.
    std::map<std::string, std::set<std::string>> varying;
    for (const auto& [name, keys] : seen) {
        for (const auto& [key, texts] : keys) {
            if (texts.size() > 1 || present[name][key] != rows_per_name[name]) {
                varying[name].insert(key);
            }
        }
    }
    return varying;
}

}  // namespace

std::string canonical_column(const std::string& name) {
    if (name == "sparsity") return "target_sparsity";
    return name;
}

const boost::json::value* find_path(const boost::json::object& row, const std::string& path) {
    const boost::json::object* object = &row;
    const boost::json::value* value = nullptr;
    size_t start = 0;
    while (start <= path.size()) {
        size_t dot = path.find('.', start);
        std::string key = path.substr(start, dot == std::string::npos ? std::string::npos
                                                                       : dot - start);
        if (object == nullptr) return nullptr;
        value = object->if_contains(key);
        if (value == nullptr) return nullptr;
        if (dot == std::string::npos) return value;
        object = value->is_object() ? &value->as_object() : nullptr;
        start = dot + 1;
    }
    return value;
}

std::vector<KeyValue> read_key_column(const std::vector<const boost::json::object*>& rows,
                                      const std::string& column) {
    const std::string path = canonical_column(column);
    std::vector<const boost::json::value*> values;
    values.reserve(rows.size());
    for (const auto* row : rows) values.push_back(find_path(*row, path));

    // A dataset key is the plugin with its parameters and the row's data settings (task,
    // split, threshold, top-K protocol): two grid entries that prepare one dataset differently
    // are two groups. The settings join the parameters as "data.<key>", so a label names the
    // ones that vary, as in movietweetings(data.protocol=full_ranking).
    std::vector<boost::json::value> with_data;
    if (path == "dataset") {
        with_data.reserve(rows.size());
        for (size_t i = 0; i < rows.size(); ++i) {
            const boost::json::value* data = rows[i]->if_contains("data");
            if (!is_plugin_object(values[i]) || data == nullptr || !data->is_object()) continue;
            boost::json::object plugin = values[i]->as_object();
            boost::json::object params = parameters_of(plugin);
            for (const auto& [key, setting] : data->as_object()) {
                params["data." + std::string(key)] = setting;
            }
            plugin["params"] = std::move(params);
            with_data.emplace_back(std::move(plugin));
            values[i] = &with_data.back();
        }
    }
    auto varying = varying_parameters(values);

    std::vector<KeyValue> keys;
    keys.reserve(rows.size());
    for (const auto* value : values) {
        KeyValue key;
        if (value == nullptr || value->is_null()) {
            key.identity = "null";
            key.label = "-";
        } else if (is_plugin_object(value)) {
            const auto& plugin = value->as_object();
            std::string name(plugin.at("name").as_string());
            key.identity = json_io::serialize(*value);
            key.label = name;
            auto params = parameters_of(plugin);
            const std::string parameter_text =
                join_mapped(varying[name], [&](const std::string& param) {
                    const auto* param_value = params.if_contains(param);
                    return param + "=" + (param_value ? value_text(*param_value) : "-");
                });
            if (!parameter_text.empty()) key.label += "(" + parameter_text + ")";
        } else {
            key.identity = json_io::serialize(*value);
            key.label = value_text(*value);
            if (value->is_number()) key.number = json_io::as_double(*value);
        }
        keys.push_back(std::move(key));
    }
    return keys;
}

bool is_metric_column(const std::string& column) {
    return column.find('.') == std::string::npos;
}

std::optional<double> read_value(const boost::json::object& row, const std::string& column,
                                 const std::string& split) {
    const boost::json::value* value =
        is_metric_column(column) ? find_path(row, "metrics." + split + "." + column + ".value")
                                 : find_path(row, column);
    if (value == nullptr || !value->is_number()) return std::nullopt;
    return json_io::as_double(*value);
}

std::string number_text(double value) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    if (ec != std::errc()) return "nan";
    return std::string(buffer, end);
}

}  // namespace recprune::report
