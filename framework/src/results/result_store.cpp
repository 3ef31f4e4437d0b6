#include "results/result_store.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace recprune::results {
namespace {

std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace

ResultStore::ResultStore(const std::filesystem::path& folder) : folder_(folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (ec) {
        throw ConfigError("cannot create output folder: " + folder_.string() + ": " +
                          ec.message() + "; choose another --output");
    }

    // Read what a previous run left. Only complete lines (ending in '\n') that parse count; a
    // partial last line is cut off, because the cell it belongs to did not finish.
    const auto path = rows_path();
    if (std::filesystem::exists(path)) {
        std::string text = read_all(path);
        size_t good_end = 0;
        size_t begin = 0;
        while (begin < text.size()) {
            size_t end = text.find('\n', begin);
            if (end == std::string::npos) {
                ++damaged_lines_;
                break;
            }
            std::string_view line(text.data() + begin, end - begin);
            boost::system::error_code parse_error;
            auto value = boost::json::parse(line, parse_error);
            if (!parse_error && value.is_object() && value.as_object().contains("cell_id")) {
                const auto& row = value.as_object();
                previous_[std::string(row.at("cell_id").as_string())] = row;
                good_end = end + 1;
            } else if (!line.empty()) {
                ++damaged_lines_;
            }
            begin = end + 1;
        }
        if (good_end < text.size()) {
            std::filesystem::resize_file(path, good_end);
            RECPRUNE_WARN("results", "cut a partial line off the end of {}", path.string());
        }
    }

    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw ConfigError("cannot open results file: " + path.string() + ": " +
                          std::strerror(errno) + "; check the permissions of --output");
    }
}

ResultStore::~ResultStore() {
    if (fd_ >= 0) ::close(fd_);
}

void ResultStore::append(const boost::json::object& row) {
    // One write() of the whole line, then fsync: a kill leaves either the line or a prefix of
    // it, and the prefix is cut off on the next open.
    std::string line = json_io::serialize(row) + "\n";
    std::lock_guard<std::mutex> lock(mutex_);
    size_t written = 0;
    while (written < line.size()) {
        ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("cannot append to " + rows_path().string() + ": " +
                                     std::strerror(errno) + "; free disk space and rerun, "
                                     "finished rows are kept");
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd_) != 0) {
        throw std::runtime_error("cannot flush " + rows_path().string() + ": " +
                                 std::strerror(errno));
    }
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

std::vector<boost::json::object> read_rows(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) {
        throw ConfigError("cannot read results: " + path.string() +
                          ": file not found; give a results.json or results.jsonl");
    }
    std::vector<boost::json::object> rows;
    if (path.extension() == ".jsonl") {
        std::ifstream in(path);
        std::string line;
        size_t number = 0;
        while (std::getline(in, line)) {
            ++number;
            if (line.empty()) continue;
            boost::system::error_code ec;
            auto value = boost::json::parse(line, ec);
            if (ec || !value.is_object()) {
                throw DataError("malformed results: " + path.string() + ":" +
                                std::to_string(number) + ": not a JSON object; remove the line");
            }
            rows.push_back(value.as_object());
        }
        return rows;
    }
    auto value = json_io::parse_file(path);
    const auto* list = value.is_object() ? value.as_object().if_contains("rows") : nullptr;
    if (list == nullptr || !list->is_array()) {
        throw DataError("malformed results: " + path.string() +
                        ": no \"rows\" list; give a results.json written by recprune");
    }
    for (const auto& row : list->as_array()) {
        if (row.is_object()) rows.push_back(row.as_object());
    }
    return rows;
}

}  // namespace recprune::results
