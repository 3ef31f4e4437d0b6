#include "plugin/parameters.hpp"

#include "core/join.hpp"
#include "core/json_io.hpp"

#include <cmath>

namespace recprune::plugin {
namespace {

std::string type_of(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null: return "null";
        case boost::json::kind::bool_: return "boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64: return "integer";
        case boost::json::kind::double_: return "number";
        case boost::json::kind::string: return "string";
        case boost::json::kind::array: return "array";
        case boost::json::kind::object: return "object";
    }
    return "?";
}

bool has_type(const boost::json::value& value, std::string_view type) {
    if (type == "integer") {
        if (value.is_int64() || value.is_uint64()) return true;
        return value.is_double() && std::isfinite(value.get_double()) &&
               std::floor(value.get_double()) == value.get_double();
    }
    if (type == "number") return value.is_number();
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_bool();
    if (type == "array") return value.is_array();
    if (type == "object") return value.is_object();
    return false;
}

}  // namespace

std::string check_parameter_value(const boost::json::object& spec,
                                  const boost::json::value& value) {
    std::string type(spec.at("type").as_string());
    if (!has_type(value, type)) {
        return json_io::serialize(value) + " is " + type_of(value) + ", expected " + type;
    }
    if (value.is_number()) {
        double number = json_io::as_double(value);
        if (const auto* minimum = spec.if_contains("minimum");
            minimum != nullptr && minimum->is_number() && number < json_io::as_double(*minimum)) {
            return json_io::serialize(value) + " is below the minimum " +
                   json_io::serialize(*minimum);
        }
        if (const auto* maximum = spec.if_contains("maximum");
            maximum != nullptr && maximum->is_number() && number > json_io::as_double(*maximum)) {
            return json_io::serialize(value) + " is above the maximum " +
                   json_io::serialize(*maximum);
        }
    }
    if (const auto* choices = spec.if_contains("enum"); choices != nullptr && choices->is_array()) {
        bool found = false;
        for (const auto& choice : choices->as_array()) found = found || choice == value;
        if (!found) {
            return json_io::serialize(value) + " is not one of " +
                   join_mapped(choices->as_array(), [](const boost::json::value& choice) {
                       return json_io::serialize(choice);
                   });
        }
    }
    if (value.is_array()) {
        if (const auto* items = spec.if_contains("items"); items != nullptr && items->is_object() &&
                                                           items->as_object().contains("type")) {
            const auto& array = value.as_array();
            for (size_t i = 0; i < array.size(); ++i) {
                std::string problem = check_parameter_value(items->as_object(), array[i]);
                if (!problem.empty()) return "item " + std::to_string(i) + ": " + problem;
            }
        }
    }
    return "";
}

boost::json::object resolve_parameters(const PluginLibrary& plugin,
                                       const boost::json::object& given,
                                       const std::string& json_path,
                                       const std::filesystem::path& base_dir,
                                       std::vector<std::string>& problems) {
    const boost::json::object& schema = plugin.parameters();
    boost::json::object resolved;

    for (const auto& [key, value] : given) {
        std::string path = json_io::child_path(json_path, key);
        const boost::json::value* spec = schema.if_contains(key);
        if (spec == nullptr) {
            const std::string known = join_mapped(
                schema, [](const boost::json::key_value_pair& entry) { return entry.key(); });
            problems.push_back("invalid grid: " + path + ": unknown parameter of " +
                               kind_name(plugin.kind()) + " " + plugin.name() + "; known: " +
                               (known.empty() ? "none" : known));
            continue;
        }
        std::string problem = check_parameter_value(spec->as_object(), value);
        if (!problem.empty()) {
            std::string help;
            if (const auto* text = spec->as_object().if_contains("help");
                text != nullptr && text->is_string()) {
                help = std::string(text->as_string());
            }
            problems.push_back("invalid grid: " + path + ": " + problem +
                               "; give a valid value" +
                               (help.empty() ? std::string(" (see `recprune plugins`)")
                                             : " (" + help + ")"));
            continue;
        }
        resolved[key] = value;
    }

    // Defaults for what the grid left out; a parameter without default is required.
    for (const auto& [key, spec] : schema) {
        if (resolved.contains(key) || given.contains(key)) continue;
        if (const auto* fallback = spec.as_object().if_contains("default")) {
            resolved[key] = *fallback;
        } else {
            problems.push_back("invalid grid: " + json_io::child_path(json_path, key) +
                               ": missing required parameter of " + kind_name(plugin.kind()) +
                               " " + plugin.name() + "; add it");
        }
    }

    // Paths are relative to the grid file, so a grid runs the same from any working folder.
    for (auto& [key, value] : resolved) {
        const auto* format = schema.at(key).as_object().if_contains("format");
        // An empty path means "not given": it stays empty, so that the plugin reports it as
        // missing instead of reading the grid's folder.
        if (format != nullptr && *format == "path" && value.is_string() &&
            !value.as_string().empty()) {
            std::filesystem::path path(std::string(value.as_string()));
            if (path.is_relative() && !base_dir.empty()) {
                path = (base_dir / path).lexically_normal();
                value = path.string();
            }
            // Input paths are checked here so that `validate` catches them, not the run.
            std::error_code ec;
            if (!path.empty() && !std::filesystem::exists(path, ec)) {
                problems.push_back("invalid grid: " + json_io::child_path(json_path, key) +
                                   ": " + path.string() + " does not exist; fix the path (a "
                                   "relative path starts at the grid file's folder)");
            }
        }
    }
    return resolved;
}

}  // namespace recprune::plugin
