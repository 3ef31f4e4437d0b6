#include "results/merge.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"
#include "results/result_store.hpp"

#include <filesystem>
#include <map>
#include <set>

namespace recprune::results {
namespace {

struct ShardFolder {
    std::filesystem::path path;
    boost::json::object manifest;
    std::string shard;  // "K/N"
    std::map<std::string, std::string> lines;  // cell id -> row line
    boost::json::object environment;
};

std::string text_of(const boost::json::object& object, const char* key) {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

ShardFolder read_folder(const std::filesystem::path& path) {
    ShardFolder folder;
    folder.path = path;
    const auto manifest_path = path / "cells.json";
    if (!std::filesystem::exists(manifest_path)) {
        throw ConfigError("cannot merge: " + path.string() +
                          ": no cells.json in the folder; give output folders of recprune run");
    }
    auto manifest = json_io::parse_file(manifest_path);
    const auto* shard_entry =
        manifest.is_object() ? manifest.as_object().if_contains("shard") : nullptr;
    const bool shard_ok = shard_entry != nullptr && shard_entry->is_object() &&
                          shard_entry->as_object().contains("index") &&
                          shard_entry->as_object().contains("count");
    if (!manifest.is_object() || !manifest.as_object().contains("cells") ||
        !manifest.as_object().contains("grid_id") || !shard_ok ||
        !manifest.as_object().at("cells").is_array()) {
        throw ConfigError("cannot merge: " + manifest_path.string() +
                          ": not a cell manifest written by recprune run; give its folder again "
                          "after rerunning that shard");
    }
    folder.manifest = manifest.as_object();
    const auto& cells = folder.manifest.at("cells").as_array();
    for (size_t i = 0; i < cells.size(); ++i) {
        if (!cells[i].is_object() || text_of(cells[i].as_object(), "cell_id").empty() ||
            !cells[i].as_object().contains("shard")) {
            throw ConfigError("cannot merge: " + manifest_path.string() + ": cells[" +
                              std::to_string(i) + "] has no \"cell_id\" or \"shard\"; "
                              "rerun that shard to write its cells.json again");
        }
    }
    const auto& shard = folder.manifest.at("shard").as_object();
    folder.shard = json_io::serialize(shard.at("index")) + "/" +
                   json_io::serialize(shard.at("count"));

    const auto rows_path = path / "results.jsonl";
    if (std::filesystem::exists(rows_path)) {
        for (auto& [id, line] : read_row_lines(rows_path)) folder.lines[id] = std::move(line);
    }
    const auto table_path = path / "results.json";
    if (std::filesystem::exists(table_path)) {
        auto table = json_io::parse_file(table_path);
        if (const auto* environment = table.as_object().if_contains("environment");
            environment != nullptr && environment->is_object()) {
            folder.environment = environment->as_object();
        }
    }
    return folder;
}

// Returns the fields two rows of one cell must agree on (status, metrics and sparsity) as
// canonical JSON. Timings may differ.
std::string result_key(const boost::json::object& row) {
    boost::json::object key;
    for (const char* field : {"status", "metrics", "sparsity"}) {
        if (const auto* value = row.if_contains(field)) key[field] = *value;
    }
    return canonical_json(key);
}

bool same_path(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;
    return std::filesystem::exists(a) && std::filesystem::exists(b) &&
           std::filesystem::equivalent(a, b, ec);
}

}  // namespace

MergeReport merge_results(const std::filesystem::path& output,
                          const std::vector<std::filesystem::path>& inputs) {
    if (inputs.empty()) {
        throw ConfigError("cannot merge: no shard folders given; give the output folders of the "
                          "recprune run --shard K/N jobs after OUT");
    }
    std::vector<ShardFolder> folders;
    for (const auto& input : inputs) {
        if (same_path(input, output)) {
            throw ConfigError("cannot merge: " + output.string() +
                              ": the output folder is also an input; give a new folder as OUT");
        }
        folders.push_back(read_folder(input));
    }

    // Every folder must come from the same grid: the same cell ids.
    const std::string grid_id = text_of(folders.front().manifest, "grid_id");
    for (const auto& folder : folders) {
        if (text_of(folder.manifest, "grid_id") != grid_id) {
            throw ConfigError("cannot merge: " + folder.path.string() + ": its grid (id " +
                              text_of(folder.manifest, "grid_id") + ") differs from the grid of " +
                              folders.front().path.string() + " (id " + grid_id +
                              "); merge shards of one grid, run with the same grid file and data");
        }
    }
    std::map<std::string, std::vector<std::string>> folders_of_shard;
    for (const auto& folder : folders) {
        folders_of_shard[folder.shard].push_back(folder.path.string());
    }
    for (const auto& [shard, paths] : folders_of_shard) {
        if (paths.size() > 1) {
            RECPRUNE_WARN("results", "shard {} comes from {} folders; rows found in several are "
                                     "compared",
                          shard, paths.size());
        }
    }

    MergeReport report;
    std::vector<std::pair<std::string, std::string>> merged_lines;
    std::vector<boost::json::object> rows;
    std::set<std::string> grid_cells;
    // Cells whose run kept model files (--save-models): their folders move with the rows,
    // whose paths are relative to the output folder.
    struct ModelFolder {
        const ShardFolder* folder;
        std::string cell_id;
        size_t row;  ///< index in rows and merged_lines
    };
    std::vector<ModelFolder> model_folders;
    const auto& cells = folders.front().manifest.at("cells").as_array();
    const auto shard_count = folders.front().manifest.at("shard").at("count");
    for (const auto& entry : cells) {
        const auto& cell = entry.as_object();
        const std::string id = text_of(cell, "cell_id");
        const std::string description = text_of(cell, "cell");
        grid_cells.insert(id);
        ++report.expected;

        const std::string* chosen = nullptr;
        const ShardFolder* chosen_folder = nullptr;
        std::string chosen_key;
        for (const auto& folder : folders) {
            auto found = folder.lines.find(id);
            if (found == folder.lines.end()) continue;
            const std::string key =
                result_key(json_io::parse(found->second, folder.path.string()).as_object());
            if (chosen == nullptr) {
                chosen = &found->second;
                chosen_folder = &folder;
                chosen_key = key;
            } else if (key == chosen_key) {
                ++report.duplicates;
            } else {
                report.conflicts.push_back(
                    {id, description,
                     "kept the row of " + chosen_folder->path.string() + "; " +
                         folder.path.string() + " has another status or other metric values"});
            }
        }
        if (chosen == nullptr) {
            report.missing.push_back(
                {id, description,
                 "shard " + json_io::serialize(cell.at("shard")) + "/" +
                     json_io::serialize(shard_count) + " has no row for it"});
            continue;
        }
        merged_lines.emplace_back(id, *chosen);
        rows.push_back(json_io::parse(*chosen, chosen_folder->path.string()).as_object());
        if (rows.back().contains("saved_models")) {
            model_folders.push_back({chosen_folder, id, rows.size() - 1});
        }
        if (rows.back().at("status") == "failed") ++report.failed;
    }
    for (const auto& folder : folders) {
        for (const auto& [id, line] : folder.lines) report.extra += grid_cells.count(id) == 0;
    }
    report.merged = rows.size();

    // The merged folder reads like the folder of one unsharded run, plus a "merge" section.
    boost::json::array sources;
    for (const auto& folder : folders) {
        sources.push_back(boost::json::object{{"folder", folder.path.string()},
                                              {"shard", folder.shard},
                                              {"rows", folder.lines.size()},
                                              {"environment", folder.environment}});
    }
    auto issues = [](const std::vector<MergeIssue>& list) {
        boost::json::array out;
        for (const auto& issue : list) {
            out.push_back(boost::json::object{
                {"cell_id", issue.cell_id}, {"cell", issue.cell}, {"detail", issue.detail}});
        }
        return out;
    };
    boost::json::object merge{{"sources", sources},
                              {"missing", issues(report.missing)},
                              {"conflicts", issues(report.conflicts)}};

    // Model files move before the rows are written, so a row whose folder could not be
    // copied lists the failure instead of paths that do not exist in the output.
    for (const auto& entry : model_folders) {
        const auto from = entry.folder->path / kModelFolder / entry.cell_id;
        const auto to = output / kModelFolder / entry.cell_id;
        std::error_code error;
        if (!std::filesystem::is_directory(from, error)) {
            error = std::make_error_code(std::errc::no_such_file_or_directory);
        } else {
            std::filesystem::create_directories(to, error);
        }
        if (!error) {
            std::filesystem::copy(from, to,
                                  std::filesystem::copy_options::recursive |
                                      std::filesystem::copy_options::overwrite_existing,
                                  error);
        }
        if (!error) continue;
        const std::string message = "model files not copied from " + from.string() + " to " +
                                    to.string() + ": " + error.message();
        RECPRUNE_WARN("results", "cell {}: {}; copy the folder by hand", entry.cell_id, message);
        boost::json::object& row = rows[entry.row];
        row["saved_models"] =
            boost::json::object{{"errors", boost::json::array{boost::json::string(message)}}};
        merged_lines[entry.row].second = json_io::serialize(row);
    }

    ResultStore store(output);
    store.replace_all(merged_lines);
    boost::json::object manifest = folders.front().manifest;
    manifest["shard"] = boost::json::object{{"index", 1}, {"count", 1}};
    for (auto& cell : manifest.at("cells").as_array()) cell.as_object()["shard"] = 1;
    store.write_manifest(manifest);
    boost::json::object environment = folders.front().environment;
    environment["merge"] = merge;
    store.write_table(manifest.at("grid"), environment, rows);
    report.table_path = store.table_path();

    return report;
}

}  // namespace recprune::results
