// Result files of a grid run in an output folder:
// - results.jsonl: one JSON row per finished cell, written and flushed (fsync) at once, so a
//   crash loses no finished cell. The file holds at most one row per cell id: a failed cell run
//   again replaces its old row instead of adding a second one;
// - results.json: the final table, written atomically at the end;
// - cells.json: the manifest of every cell of the grid, which `recprune merge` reads to report
//   missing cells.
// Reopening a folder reads the rows already there so that finished cells are skipped. One
// process at a time may write a folder; a second one is rejected with a ConfigError.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace recprune::results {

/// Version of the row and table layout documented in docs/results.md.
inline constexpr int kSchemaVersion = 1;

/// Subfolder of an output folder with the model files of `run --save-models`, one folder per
/// cell id.
inline constexpr const char* kModelFolder = "models";

class ResultStore {
public:
    /// Opens (creating) `folder` and takes its lock. Reads results.jsonl when present: a torn
    /// last line, left by a kill in the middle of a write, is cut off, and a file with lines
    /// that do not parse or with two rows of one cell (written by an older version) is
    /// rewritten atomically with the last row of each cell. Throws ConfigError when another
    /// process holds the folder or the files cannot be opened.
    explicit ResultStore(const std::filesystem::path& folder);
    ~ResultStore();
    ResultStore(const ResultStore&) = delete;
    ResultStore& operator=(const ResultStore&) = delete;

    /// Rows read from a previous run, by cell id.
    const std::map<std::string, boost::json::object>& previous() const { return previous_; }
    /// The same rows as the text of their line in results.jsonl (no newline), by cell id.
    const std::map<std::string, std::string>& previous_lines() const { return previous_lines_; }

    /// Writes one row and flushes it to disk before returning, and returns the line written
    /// (without the newline). A row whose cell id is already in the file replaces that row
    /// through an atomic rewrite. Thread-safe. Throws std::runtime_error when the write fails.
    std::string append(const boost::json::object& row);

    /// Same as append() for a row already serialised on one line, as a worker process or MPI
    /// rank sends it, so the bytes on disk are the bytes the cell produced. Throws
    /// std::invalid_argument when `line` is not a JSON object with a "cell_id" string.
    void append_line(std::string_view line);

    /// Replaces results.jsonl atomically with `lines` (cell id, row text), as `recprune merge`
    /// writes its output. Thread-safe.
    void replace_all(const std::vector<std::pair<std::string, std::string>>& lines);

    /// Writes results.json atomically: {"schema_version", "grid", "environment", "rows"}.
    void write_table(const boost::json::value& grid, const boost::json::object& environment,
                     const std::vector<boost::json::object>& rows) const;

    /// Writes cells.json atomically.
    void write_manifest(const boost::json::object& manifest) const;

    const std::filesystem::path& folder() const { return folder_; }
    std::filesystem::path rows_path() const { return folder_ / "results.jsonl"; }
    std::filesystem::path table_path() const { return folder_ / "results.json"; }
    std::filesystem::path manifest_path() const { return folder_ / "cells.json"; }
    /// Lines cut off or dropped when reading the previous rows.
    size_t damaged_lines() const { return damaged_lines_; }
    /// Older rows dropped because a later row of the same cell followed them.
    size_t superseded_rows() const { return superseded_rows_; }

private:
    void read_previous();
    void open_for_append();
    void write_line_locked(const std::string& id, const std::string& line);
    void rewrite_locked();

    std::filesystem::path folder_;
    std::string lock_key_;
    std::map<std::string, boost::json::object> previous_;
    std::map<std::string, std::string> previous_lines_;
    // What results.jsonl holds now: one line per cell id, in file order.
    std::vector<std::string> file_order_;
    std::map<std::string, std::string> file_lines_;
    size_t damaged_lines_ = 0;
    size_t superseded_rows_ = 0;
    int fd_ = -1;
    std::mutex mutex_;
};

/// Reads every row of a results.jsonl or results.json file (for report and merge). In a
/// results.jsonl an unterminated last line, left by a process killed in the middle of a write,
/// is skipped with a warning; when one cell has several rows the last one is kept, at the
/// place of the first. Throws ConfigError when the file is missing and DataError when a
/// complete line or the table does not parse.
std::vector<boost::json::object> read_rows(const std::filesystem::path& path);

/// Rows of a results.jsonl as (cell id, line text) in file order, with the same rules as
/// read_rows(): `recprune merge` copies the lines byte for byte.
std::vector<std::pair<std::string, std::string>> read_row_lines(const std::filesystem::path& path);

}  // namespace recprune::results
