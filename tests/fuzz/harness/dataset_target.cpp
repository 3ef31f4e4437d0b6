#include "harness/harness.hpp"
#include "harness/host_errors.hpp"
#include "harness/support.hpp"

#include "core/json_io.hpp"
#include "data/cache.hpp"
#include "data/prepare.hpp"
#include "data/settings.hpp"
#include "plugin/instances.hpp"
#include "plugin/parameters.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <cstring>
#include <map>

namespace recprune::fuzz {
namespace {

// Where each plugin's files go: a file, or a folder with fixed file names.
struct Layout {
    bool folder = false;
    std::vector<std::string> files;
};

Layout layout_for(std::string_view plugin_name, const boost::json::object& params) {
    if (plugin_name == "movietweetings") return {true, {"ratings.dat", "movies.dat"}};
    if (plugin_name == "movielens") {
        const auto* variant = params.if_contains("variant");
        if (variant != nullptr && *variant == "1m") {
            return {true, {"ratings.dat", "users.dat", "movies.dat"}};
        }
        return {true, {"u.data", "u.user", "u.item"}};
    }
    return {false, {"data.txt"}};
}

std::shared_ptr<const plugin::PluginLibrary> dataset_library(std::string_view plugin_name) {
    static std::map<std::string, std::shared_ptr<const plugin::PluginLibrary>> loaded;
    auto& library = loaded[std::string(plugin_name)];
    if (!library) {
        library = plugin::PluginLibrary::load(plugin_dir() / ("librecprune_dataset_" +
                                                              std::string(plugin_name) + ".so"));
    }
    return library;
}

// The entry's JSON object, or {} when the first part is not one.
boost::json::object parse_entry(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec || !value.is_object()) return {};
    return value.as_object();
}

// Compares two arrays of equal length byte by byte; empty arrays (whose data() may be null,
// which memcmp must not get) are equal.
template <typename Array>
bool same_bytes(const Array& a, const Array& b) {
    return a.size() == 0 ||
           std::memcmp(a.data(), b.data(), a.size() * sizeof(*a.data())) == 0;
}

bool same_table(const data::RawTable& a, const data::RawTable& b) {
    if (a.row_count != b.row_count || a.columns.size() != b.columns.size()) return false;
    for (size_t c = 0; c < a.columns.size(); ++c) {
        const data::RawColumn& x = a.columns[c];
        const data::RawColumn& y = b.columns[c];
        if (x.name != y.name || x.type != y.type || x.roles != y.roles) return false;
        if (x.keys.size() != y.keys.size() || x.offsets.size() != y.offsets.size() ||
            x.numeric.size() != y.numeric.size()) {
            return false;
        }
        // Bytewise, so NaN (a missing value) compares equal to itself.
        if (!same_bytes(x.keys, y.keys) || !same_bytes(x.offsets, y.offsets) ||
            !same_bytes(x.numeric, y.numeric)) {
            return false;
        }
    }
    return true;
}

// Every id a part holds must index its field's embedding table, and labels must be finite.
void check_part(const data::PreparedData& prepared, const data::Part& part, const char* name) {
    require(part.ids.size() == prepared.fields.size(),
            std::string(name) + ": one id list per field expected");
    require(part.labels.size() == part.row_count, std::string(name) + ": one label per row");
    require(part.dense.size() == part.row_count * prepared.dense_count,
            std::string(name) + ": dense inputs do not match the row count");
    for (size_t f = 0; f < prepared.fields.size(); ++f) {
        for (uint32_t id : part.ids[f]) {
            require(id < prepared.fields[f].vocabulary_size,
                    std::string(name) + ": id " + std::to_string(id) + " of field " +
                        prepared.fields[f].name + " is outside its vocabulary of " +
                        std::to_string(prepared.fields[f].vocabulary_size));
        }
        if (!part.offsets[f].empty()) {
            require(part.offsets[f].size() == part.row_count + 1 &&
                        part.offsets[f].back() == part.ids[f].size(),
                    std::string(name) + ": offsets of field " + prepared.fields[f].name +
                        " do not match its ids");
        } else {
            require(part.ids[f].size() == part.row_count,
                    std::string(name) + ": field " + prepared.fields[f].name +
                        " has another number of ids than rows");
        }
    }
    for (float label : part.labels) {
        require(std::isfinite(label), std::string(name) + ": a label is not finite");
    }
    for (float value : part.dense) {
        require(std::isfinite(value), std::string(name) + ": a dense input is not finite");
    }
}

}  // namespace

void run_dataset(std::string_view plugin_name, std::string_view input) {
    init_once();
    std::shared_ptr<const plugin::PluginLibrary> library = dataset_library(plugin_name);
    const std::filesystem::path work = fresh_folder(scratch_dir() / "dataset");
    const std::filesystem::path cache_dir = work / "cache";

    // Parts: the dataset entry as written in a grid, then one part per data file.
    std::vector<std::string_view> parts = split_at_nul(input, 4);
    boost::json::object entry = parse_entry(parts[0]);
    boost::json::object params;
    if (const auto* given = entry.if_contains("params"); given != nullptr && given->is_object()) {
        params = given->as_object();
    }
    Layout layout = layout_for(plugin_name, params);
    for (size_t i = 0; i < layout.files.size() && i + 1 < parts.size(); ++i) {
        write_bytes(work / layout.files[i], parts[i + 1]);
    }

    // The harness owns the paths and the thread count: the fuzzer must not point the plugin
    // at files of the machine or start hundreds of threads.
    params["path"] = layout.folder ? work.string() : (work / layout.files[0]).string();
    if (library->parameters().contains("threads")) params["threads"] = 1;
    entry.erase("params");
    entry.erase("name");

    accept_or_reject([&] {
        // The grid's checks first, as load_grid runs them before any cell.
        std::vector<std::string> problems;
        boost::json::object resolved = plugin::resolve_parameters(
            *library, params, "$.datasets[0].params", work, problems);
        data::DataSettings settings = data::parse_data_settings(entry, "$.datasets[0]", problems);
        if (!problems.empty()) {
            for (const std::string& problem : problems) check_rejection_message(problem.c_str());
            return;
        }

        // Then the runner's load: create, sources, fingerprint, cached parse, prepare.
        boost::json::object plugin_params = data::plugin_params_with_settings(resolved, settings);
        std::string params_json = json_io::serialize(plugin_params);
        plugin::DatasetInstance instance(library, params_json);
        std::vector<std::string> sources = instance.sources();
        std::string fingerprint = data::fingerprint(library->name(), library->version(),
                                                    params_json, sources,
                                                    json_io::serialize(settings.to_json()));
        data::RawTable parsed =
            data::load_cached(cache_dir, fingerprint, [&] { return data::copy_table(instance.load()); });

        // The cache written by that load reads back to the same table.
        data::RawTable cached;
        std::string reason;
        require(data::read_cache(data::cache_file_path(cache_dir, fingerprint), fingerprint,
                                 cached, reason),
                "the table cache does not read back: " + reason);
        require(same_table(parsed, cached), "the table cache reads back another table");

        data::PreparedData prepared = data::prepare(parsed, settings);
        require(prepared.train.row_count + prepared.validation.row_count +
                        prepared.test.row_count <= parsed.row_count,
                "the parts hold more rows than the table");
        check_part(prepared, prepared.train, "train");
        check_part(prepared, prepared.validation, "validation");
        check_part(prepared, prepared.test, "test");
    });
}

}  // namespace recprune::fuzz
