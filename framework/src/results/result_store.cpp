#include "results/result_store.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace recprune::results {
namespace {

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// One row line of a results.jsonl: its cell id when it parses as a row, else empty.
std::string cell_id_of(std::string_view line, boost::json::object* row_out) {
    auto parsed = json_io::try_parse(line);
    if (!parsed || !parsed->is_object()) return "";
    boost::json::value& value = *parsed;
    const auto* id = value.as_object().if_contains("cell_id");
    if (id == nullptr || !id->is_string() || id->as_string().empty()) return "";
    std::string text(id->as_string());
    if (row_out != nullptr) *row_out = std::move(value.as_object());
    return text;
}

// Returns what is wrong with a parsed result row, or "" for a row this version reads: a
// "cell_id", a known "status", "metrics" that is an object when present, and no other schema
// version.
std::string row_problem(const boost::json::object& row) {
    const auto* id = row.if_contains("cell_id");
    if (id == nullptr || !id->is_string() || id->as_string().empty()) {
        return "no \"cell_id\" string";
    }
    const auto* status = row.if_contains("status");
    if (status == nullptr || !status->is_string()) return "no \"status\" string";
    const std::string status_text(status->as_string());
    if (status_text != "ok" && status_text != "target_not_reached" && status_text != "failed") {
        return "status \"" + status_text + "\" is not ok, target_not_reached or failed";
    }
    const auto* metrics = row.if_contains("metrics");
    if (metrics != nullptr && !metrics->is_object()) return "\"metrics\" is not an object";
    const auto* kind = row.if_contains("kind");
    if (kind != nullptr && kind->is_string() && kind->as_string() == "pruned") {
        const auto* target = row.if_contains("target_sparsity");
        if (target == nullptr || !target->is_number()) {
            return "a pruned row without a numeric \"target_sparsity\"";
        }
    }
    // Rows without a version (written by hand or by a script) are read as this version.
    const auto* version = row.if_contains("schema_version");
    if (version != nullptr &&
        (!version->is_int64() || version->get_int64() != kSchemaVersion)) {
        return "schema_version " + json_io::serialize(*version) +
               ", but this recprune reads version " + std::to_string(kSchemaVersion);
    }
    return "";
}

// Throws DataError naming `where` when `row` is not a row this version reads.
void check_row(const boost::json::object& row, const std::string& where) {
    const std::string problem = row_problem(row);
    if (!problem.empty()) {
        throw DataError("malformed results: " + where + ": " + problem +
                        "; read it with the recprune that wrote it, or rerun the cell");
    }
}

// Output folders held by this process. A folder is locked with flock() on the folder itself,
// which the kernel releases when the process dies, even by SIGKILL. flock() conflicts between
// two descriptors of one process as well, so a second store on a folder this process already
// holds shares the first lock instead of failing.
struct HeldFolder {
    int fd = -1;
    int users = 0;
};

std::mutex& held_mutex() {
    static std::mutex mutex;
    return mutex;
}

std::map<std::string, HeldFolder>& held_folders() {
    static std::map<std::string, HeldFolder> folders;
    return folders;
}

std::string lock_folder(const std::filesystem::path& folder) {
    std::error_code ec;
    std::string key = std::filesystem::canonical(folder, ec).string();
    if (ec) key = std::filesystem::absolute(folder).lexically_normal().string();
    std::lock_guard<std::mutex> lock(held_mutex());
    auto& held = held_folders()[key];
    if (held.users > 0) {
        ++held.users;
        return key;
    }
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        held_folders().erase(key);
        throw ConfigError("cannot open output folder: " + folder.string() + ": " +
                          std::strerror(errno) + "; check the permissions of --output");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        ::close(fd);
        held_folders().erase(key);
        if (saved == EWOULDBLOCK) {
            throw ConfigError("output folder in use: " + folder.string() +
                              ": another recprune process is writing to it; wait for it to "
                              "finish or give another --output");
        }
        throw ConfigError("cannot lock output folder: " + folder.string() + ": " +
                          std::strerror(saved) + "; give a folder on a local file system");
    }
    held.fd = fd;
    held.users = 1;
    return key;
}

void unlock_folder(const std::string& key) {
    std::lock_guard<std::mutex> lock(held_mutex());
    auto found = held_folders().find(key);
    if (found == held_folders().end()) return;
    if (--found->second.users == 0) {
        ::close(found->second.fd);  // closing the last descriptor releases the flock
        held_folders().erase(found);
    }
}

void write_all(int fd, const std::string& bytes, const std::filesystem::path& path) {
    size_t written = 0;
    while (written < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int saved = errno;
            throw OutputError("cannot append to " + path.string() + ": " +
                              std::strerror(saved) + "; " + write_failure_advice(saved) +
                              " and rerun, finished rows are kept");
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const int saved = errno;
        throw OutputError("cannot flush " + path.string() + ": " + std::strerror(saved) + "; " +
                          write_failure_advice(saved) + " and rerun, finished rows are kept");
    }
}

}  // namespace

ResultStore::ResultStore(const std::filesystem::path& folder) : folder_(folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (ec) {
        throw ConfigError("cannot create output folder: " + folder_.string() + ": " +
                          ec.message() + "; choose another --output");
    }
    lock_key_ = lock_folder(folder_);
    try {
        read_previous();
        open_for_append();
    } catch (...) {
        unlock_folder(lock_key_);
        throw;
    }
}

ResultStore::~ResultStore() {
    if (fd_ >= 0) ::close(fd_);
    unlock_folder(lock_key_);
}

void ResultStore::read_previous() {
    const auto path = rows_path();

    // A write killed before its rename leaves its temporary file. The folder lock guarantees
    // that no other process is writing here, so such files can go.
    for (const auto& entry : std::filesystem::directory_iterator(folder_)) {
        const std::string name = entry.path().filename().string();
        for (const char* prefix : {"results.jsonl.tmp.", "results.json.tmp.", "cells.json.tmp."}) {
            if (name.rfind(prefix, 0) == 0 && entry.is_regular_file()) {
                std::filesystem::remove(entry.path());
            }
        }
    }
    if (!std::filesystem::exists(path)) return;

    // Only complete lines (ending in '\n') that parse as rows count. A partial last line is
    // cut off, because the cell it belongs to did not finish.
    std::string text = read_all(path);
    size_t good_end = 0;
    size_t begin = 0;
    bool needs_rewrite = false;
    while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) {
            ++damaged_lines_;
            RECPRUNE_WARN("results", "cut a partial line off the end of {}; its cell runs again",
                          path.string());
            break;
        }
        std::string line = text.substr(begin, end - begin);
        boost::json::object row;
        std::string id = cell_id_of(line, &row);
        if (!id.empty()) {
            // A row of another schema version is not damage to cut off: it is another
            // program's output, so the run stops instead of rerunning over it.
            check_row(row, path.string() + ":" +
                               std::to_string(std::count(text.begin(), text.begin() + begin,
                                                         '\n') + 1));
            if (file_lines_.count(id) != 0) {
                ++superseded_rows_;
                needs_rewrite = true;
            } else {
                file_order_.push_back(id);
            }
            file_lines_[id] = line;
            previous_lines_[id] = line;
            previous_[id] = std::move(row);
        } else if (!line.empty()) {
            ++damaged_lines_;
            needs_rewrite = true;
            RECPRUNE_WARN("results",
                          "dropped line {} of {}: not a result row; every cell without a row "
                          "runs again",
                          std::count(text.begin(), text.begin() + begin, '\n') + 1,
                          path.string());
        }
        good_end = end + 1;
        begin = end + 1;
    }
    if (needs_rewrite) {
        rewrite_locked();
        RECPRUNE_WARN("results", "rewrote {} with one row per cell ({} older rows dropped)",
                      path.string(), superseded_rows_);
    } else if (good_end < text.size()) {
        std::filesystem::resize_file(path, good_end);
    }
}

void ResultStore::open_for_append() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(rows_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw ConfigError("cannot open results file: " + rows_path().string() + ": " +
                          std::strerror(errno) + "; check the permissions of --output");
    }
}

void ResultStore::rewrite_locked() {
    std::string content;
    for (const auto& id : file_order_) content += file_lines_.at(id) + "\n";
    json_io::write_file_atomic(rows_path(), content);
    // The rename put a new file in place; appends must go to it, not to the old one.
    if (fd_ >= 0) open_for_append();
}

void ResultStore::write_line_locked(const std::string& id, const std::string& line) {
    if (file_lines_.count(id) != 0) {
        // A cell run again (a failed one, with --retry-failed): the new row takes the place of
        // the old one in one atomic rewrite, so the file never holds two rows of one cell and
        // a kill leaves either the old row or the new one.
        file_lines_[id] = line;
        rewrite_locked();
        return;
    }
    // One write() of the whole line, then fsync: a kill leaves either the line or a prefix of
    // it, and the prefix is cut off on the next open.
    write_all(fd_, line + "\n", rows_path());
    file_order_.push_back(id);
    file_lines_[id] = line;
}

std::string ResultStore::append(const boost::json::object& row) {
    std::string line = json_io::serialize(row);
    const auto* id = row.if_contains("cell_id");
    if (id == nullptr || !id->is_string() || id->as_string().empty()) {
        throw std::invalid_argument("cannot store a result row without a \"cell_id\" string");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    write_line_locked(std::string(id->as_string()), line);
    return line;
}

void ResultStore::append_line(std::string_view line) {
    std::string id = cell_id_of(line, nullptr);
    if (id.empty() || line.find('\n') != std::string_view::npos) {
        throw std::invalid_argument("cannot store a result row: not one JSON object with a "
                                    "\"cell_id\" string on one line: " +
                                    std::string(line.substr(0, 80)));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    write_line_locked(id, std::string(line));
}

void ResultStore::replace_all(const std::vector<std::pair<std::string, std::string>>& lines) {
    std::lock_guard<std::mutex> lock(mutex_);
    file_order_.clear();
    file_lines_.clear();
    for (const auto& [id, line] : lines) {
        if (file_lines_.count(id) == 0) file_order_.push_back(id);
        file_lines_[id] = line;
    }
    rewrite_locked();
}

void ResultStore::write_table(const boost::json::value& grid,
                              const boost::json::object& environment,
                              const std::vector<boost::json::object>& rows) const {
    boost::json::array row_array;
    for (const auto& row : rows) row_array.push_back(row);
    boost::json::object table{{"schema_version", kSchemaVersion},
                              {"grid", grid},
                              {"environment", environment},
                              {"rows", row_array}};
    json_io::write_file_atomic(table_path(), json_io::serialize_pretty(table));
}

void ResultStore::write_manifest(const boost::json::object& manifest) const {
    json_io::write_file_atomic(manifest_path(), json_io::serialize_pretty(manifest));
}

std::vector<std::pair<std::string, std::string>> read_row_lines(
    const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) {
        throw ConfigError("cannot read results: " + path.string() +
                          ": file not found; give a results.json or results.jsonl");
    }
    std::string text = read_all(path);
    std::vector<std::pair<std::string, std::string>> lines;
    std::map<std::string, size_t> position;
    size_t begin = 0;
    size_t number = 0;
    while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        ++number;
        if (end == std::string::npos) {
            RECPRUNE_WARN("results", "{}:{}: skipped an unterminated last line, left by a "
                                     "process killed while writing it",
                          path.string(), number);
            break;
        }
        std::string line = text.substr(begin, end - begin);
        begin = end + 1;
        if (line.empty()) continue;
        boost::json::object row;
        std::string id = cell_id_of(line, &row);
        if (id.empty()) {
            throw DataError("malformed results: " + path.string() + ":" + std::to_string(number) +
                            ": not a JSON object with a \"cell_id\"; remove the line");
        }
        check_row(row, path.string() + ":" + std::to_string(number));
        auto found = position.find(id);
        if (found != position.end()) {
            lines[found->second].second = std::move(line);
            continue;
        }
        position[id] = lines.size();
        lines.emplace_back(std::move(id), std::move(line));
    }
    return lines;
}

std::vector<boost::json::object> read_rows(const std::filesystem::path& path) {
    if (path.extension() == ".jsonl") {
        std::vector<boost::json::object> rows;
        for (const auto& [id, line] : read_row_lines(path)) {
            rows.push_back(json_io::parse(line, path.string()).as_object());
        }
        return rows;
    }
    if (!std::filesystem::exists(path)) {
        throw ConfigError("cannot read results: " + path.string() +
                          ": file not found; give a results.json or results.jsonl");
    }
    boost::json::value value;
    try {
        value = json_io::parse_file(path);
    } catch (const ConfigError& e) {
        // The file is data here, not configuration, as for results.jsonl.
        throw DataError(std::string("malformed results: ") + e.what());
    }
    const auto* list = value.is_object() ? value.as_object().if_contains("rows") : nullptr;
    if (list == nullptr || !list->is_array()) {
        throw DataError("malformed results: " + path.string() +
                        ": no \"rows\" list; give a results.json written by recprune");
    }
    const auto* version = value.as_object().if_contains("schema_version");
    if (version == nullptr || !version->is_int64() || version->get_int64() != kSchemaVersion) {
        const std::string found =
            version == nullptr ? std::string("missing") : json_io::serialize(*version);
        throw DataError("malformed results: " + path.string() + ": schema_version " + found +
                        ", but this recprune reads version " + std::to_string(kSchemaVersion) +
                        "; read it with the recprune that wrote it");
    }
    std::vector<boost::json::object> rows;
    const auto& items = list->as_array();
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string where = path.string() + ": rows[" + std::to_string(i) + "]";
        if (!items[i].is_object()) {
            throw DataError("malformed results: " + where + ": expected a row object, found " +
                            json_io::serialize(items[i]) + "; give a results.json written by "
                            "recprune");
        }
        check_row(items[i].as_object(), where);
        rows.push_back(items[i].as_object());
    }
    return rows;
}

}  // namespace recprune::results
