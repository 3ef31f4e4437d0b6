// Result files of a grid run in an output folder:
// - results.jsonl: one JSON row per finished cell, appended and flushed (fsync) at once, so a
//   crash loses no finished cell;
// - results.json: the final table, written atomically at the end.
// Reopening a folder reads the rows already there so that finished cells are skipped.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace recprune::results {

/// Version of the row and table layout documented in docs/results.md.
inline constexpr int kSchemaVersion = 1;

class ResultStore {
public:
    /// Opens (creating) `folder`. Reads results.jsonl when present; a torn last line, left by a
    /// kill in the middle of a write, is cut off so that the file reads cleanly again.
    explicit ResultStore(const std::filesystem::path& folder);
    ~ResultStore();
    ResultStore(const ResultStore&) = delete;
    ResultStore& operator=(const ResultStore&) = delete;

    /// Rows read from a previous run, by cell id (the last row wins).
    const std::map<std::string, boost::json::object>& previous() const { return previous_; }

    /// Appends one row and flushes it to disk before returning. Thread-safe. Throws
    /// std::runtime_error when the disk refuses the write.
    void append(const boost::json::object& row);

    /// Writes results.json atomically: {"schema_version", "grid", "environment", "rows"}.
    void write_table(const boost::json::value& grid, const boost::json::object& environment,
                     const std::vector<boost::json::object>& rows) const;

    const std::filesystem::path& folder() const { return folder_; }
    std::filesystem::path rows_path() const { return folder_ / "results.jsonl"; }
    std::filesystem::path table_path() const { return folder_ / "results.json"; }
    /// Lines cut off or skipped when reading the previous rows.
    size_t damaged_lines() const { return damaged_lines_; }

private:
    std::filesystem::path folder_;
    std::map<std::string, boost::json::object> previous_;
    size_t damaged_lines_ = 0;
    int fd_ = -1;
    std::mutex mutex_;
};

/// Reads every row of a results.jsonl or results.json file (for report and merge).
std::vector<boost::json::object> read_rows(const std::filesystem::path& path);

}  // namespace recprune::results
