// The dataset fingerprint and the binary cache of parsed tables keyed by it, so the second
// load of a dataset is a read of its arrays instead of a parse.
#pragma once

#include "data/raw_table.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace recprune::data {

/// Returns a 32-hex-digit content hash of the source files (bytes and sizes, in list order)
/// together with the plugin's name and version, its parameters and the data settings. Any
/// change to a file or a parameter changes it. Throws DataError when a source is unreadable.
std::string fingerprint(std::string_view plugin_name, std::string_view plugin_version,
                        std::string_view params_json, const std::vector<std::string>& source_paths,
                        std::string_view settings_json);

/// Path of the cache file for `fingerprint` inside `cache_dir`.
std::filesystem::path cache_file_path(const std::filesystem::path& cache_dir,
                                      const std::string& fingerprint);

/// Writes `table` to `path` atomically (temporary file, flush, rename). Throws DataError when
/// the file cannot be written.
void write_cache(const std::filesystem::path& path, const std::string& fingerprint,
                 const RawTable& table);

/// Maps a cache file written by write_cache; the table's arrays borrow the mapping, which stays
/// open while any of them lives. Returns false (and leaves `table` unspecified)
/// when the file is absent, was written for another fingerprint or format version, is cut
/// short, or fails its checksum; `reason` then says which.
bool read_cache(const std::filesystem::path& path, const std::string& fingerprint, RawTable& table,
                std::string& reason);

/// Returns the table from `cache_dir` when a valid cache for `fingerprint` is there; otherwise
/// calls `parse()` and writes its result to the cache. An empty `cache_dir` disables caching.
/// A cache that cannot be written is logged as a warning and does not fail the load.
RawTable load_cached(const std::filesystem::path& cache_dir, const std::string& fingerprint,
                     const std::function<RawTable()>& parse);

}  // namespace recprune::data
