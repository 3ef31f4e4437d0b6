#include "core/json_io.hpp"

#include "core/errors.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace recprune::json_io {
namespace {

boost::json::parse_options grid_parse_options() {
    boost::json::parse_options options;
    options.allow_comments = true;
    options.allow_trailing_commas = true;
    return options;
}

// A handler for Boost's basic_parser that builds a value as boost::json::parse does, with two
// differences. Each double is read from its text with std::from_chars, which rounds correctly.
// Boost.JSON 1.81 reads some doubles one unit in the last place off (0.15384615384615385 came back as ...83), so a row read back from
// results.jsonl did not equal the row written. And a key repeated in one object is an error,
// where Boost.JSON keeps one of the values without a word.
class ExactHandler {
public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    using error_code = boost::system::error_code;
    using string_view = boost::json::string_view;

    bool on_document_begin(error_code&) {
        stack_.reset();
        return true;
    }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t count, error_code&) {
        stack_.push_array(count);
        return true;
    }
    bool on_object_begin(error_code&) {
        keys_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t count, error_code&) {
        keys_.pop_back();
        stack_.push_object(count);
        return true;
    }
    bool on_string_part(string_view part, std::size_t, error_code&) {
        stack_.push_chars(part);
        return true;
    }
    bool on_string(string_view last, std::size_t, error_code&) {
        stack_.push_string(last);
        return true;
    }
    bool on_key_part(string_view part, std::size_t, error_code&) {
        stack_.push_chars(part);
        key_.append(part.data(), part.size());
        return true;
    }
    bool on_key(string_view last, std::size_t, error_code& ec) {
        key_.append(last.data(), last.size());
        if (!keys_.back().insert(key_).second) {
            duplicate_key_ = key_;
            ec = boost::json::error::syntax;
            return false;
        }
        key_.clear();
        stack_.push_key(last);
        return true;
    }
    bool on_number_part(string_view part, error_code&) {
        number_.append(part.data(), part.size());
        return true;
    }
    bool on_int64(std::int64_t value, string_view, error_code&) {
        number_.clear();
        stack_.push_int64(value);
        return true;
    }
    bool on_uint64(std::uint64_t value, string_view, error_code&) {
        number_.clear();
        stack_.push_uint64(value);
        return true;
    }
    bool on_double(double value, string_view last, error_code&) {
        number_.append(last.data(), last.size());
        double exact = 0.0;
        const auto [end, error] =
            std::from_chars(number_.data(), number_.data() + number_.size(), exact);
        // from_chars rejects what JSON allows only at the range limits (1e999); keep Boost's
        // value there.
        const bool read = error == std::errc() && end == number_.data() + number_.size();
        stack_.push_double(read ? exact : value);
        number_.clear();
        return true;
    }
    bool on_bool(bool value, error_code&) {
        stack_.push_bool(value);
        return true;
    }
    bool on_null(error_code&) {
        stack_.push_null();
        return true;
    }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }

    boost::json::value release() { return stack_.release(); }
    const std::string& duplicate_key() const { return duplicate_key_; }

private:
    boost::json::value_stack stack_;
    std::vector<std::unordered_set<std::string>> keys_;
    std::string key_;
    std::string number_;
    std::string duplicate_key_;
};

/// Returns the 1-based line and column of byte `offset` of `text`.
std::pair<size_t, size_t> line_and_column(std::string_view text, size_t offset) {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

void append_double(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
    out += text;
    // Keep a double recognisable as one on reading ("1" would come back as an integer).
    if (text.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

void append_string(std::string& out, std::string_view text) {
    out += boost::json::serialize(boost::json::string_view(text.data(), text.size()));
}

void append_value(std::string& out, const boost::json::value& value, int indent, int depth) {
    auto newline = [&](int level) {
        if (indent < 0) return;
        out += '\n';
        out.append(static_cast<size_t>(level * indent), ' ');
    };
    switch (value.kind()) {
        case boost::json::kind::null: out += "null"; break;
        case boost::json::kind::bool_: out += value.get_bool() ? "true" : "false"; break;
        case boost::json::kind::int64: out += std::to_string(value.get_int64()); break;
        case boost::json::kind::uint64: out += std::to_string(value.get_uint64()); break;
        case boost::json::kind::double_: append_double(out, value.get_double()); break;
        case boost::json::kind::string: append_string(out, value.get_string()); break;
        case boost::json::kind::array: {
            const auto& array = value.get_array();
            out += '[';
            // Arrays of scalars stay on one line even when pretty-printing.
            bool flat = indent < 0 || std::all_of(array.begin(), array.end(), [](const auto& v) {
                            return !v.is_array() && !v.is_object();
                        });
            for (size_t i = 0; i < array.size(); ++i) {
                if (i > 0) out += flat && indent >= 0 ? ", " : ",";
                if (!flat) newline(depth + 1);
                append_value(out, array[i], indent, depth + 1);
            }
            if (!flat && !array.empty()) newline(depth);
            out += ']';
            break;
        }
        case boost::json::kind::object: {
            const auto& object = value.get_object();
            out += '{';
            bool first = true;
            for (const auto& entry : object) {
                if (!first) out += ',';
                first = false;
                newline(depth + 1);
                append_string(out, entry.key());
                out += indent >= 0 ? ": " : ":";
                append_value(out, entry.value(), indent, depth + 1);
            }
            if (!object.empty()) newline(depth);
            out += '}';
            break;
        }
    }
}

}  // namespace

std::optional<boost::json::value> try_parse(std::string_view text, std::string* problem) {
    boost::json::basic_parser<ExactHandler> parser(grid_parse_options());
    boost::system::error_code ec;
    const size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    // The parser stops after the value and the whitespace and comments behind it; anything
    // else there is extra data, as boost::json::parse reports it.
    if (!ec && consumed == text.size()) return parser.handler().release();
    if (!ec) ec = boost::json::error::extra_data;
    if (problem != nullptr) {
        const auto [line, column] = line_and_column(text, consumed);
        std::string reason = ec.message() + "; check the brackets, commas and quotes before "
                                            "this point";
        if (!parser.handler().duplicate_key().empty()) {
            reason = "duplicate key \"" + parser.handler().duplicate_key() +
                     "\" in one object; keep one of them";
        } else if (text.substr(0, 3) == "\xEF\xBB\xBF") {
            reason = "the file starts with a UTF-8 byte order mark; save it without one";
        }
        *problem = std::to_string(line) + ":" + std::to_string(column) + ": " + reason;
    }
    return std::nullopt;
}

boost::json::value parse(std::string_view text, const std::string& source) {
    std::string problem;
    if (auto value = try_parse(text, &problem)) return std::move(*value);
    throw ConfigError("invalid JSON: " + source + ":" + problem);
}

boost::json::value parse_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("cannot read file: " + path.string() + ": " + std::strerror(errno) +
                          "; check the path");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse(buffer.str(), path.string());
}

std::string serialize(const boost::json::value& value) {
    std::string out;
    append_value(out, value, -1, 0);
    return out;
}

std::string serialize_pretty(const boost::json::value& value) {
    std::string out;
    append_value(out, value, 2, 0);
    out += '\n';
    return out;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
    std::filesystem::path temporary = path;
    temporary += ".tmp." + std::to_string(::getpid());
    const auto failed = [&](const std::string& what, int error) {
        ::unlink(temporary.c_str());
        return OutputError(what + ": " + std::strerror(error) + "; " +
                           write_failure_advice(error) + " and rerun");
    };
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw failed("cannot write " + temporary.string(), errno);
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            throw failed("cannot write " + temporary.string(), saved);
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        throw failed("cannot flush " + temporary.string(), errno);
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(temporary.c_str());
        const bool path_taken = saved == EISDIR || saved == ENOTEMPTY || saved == EEXIST;
        throw OutputError("cannot replace " + path.string() + ": " + std::strerror(saved) +
                          "; " +
                          (path_taken ? "move away what is at that path (a folder, say)"
                                      : write_failure_advice(saved)) +
                          " and rerun");
    }
}

std::string child_path(const std::string& parent, std::string_view key) {
    bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (plain) return parent + "." + std::string(key);
    return parent + "[" + boost::json::serialize(boost::json::string(key)) + "]";
}

std::string child_path(const std::string& parent, size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

double as_double(const boost::json::value& value) {
    if (value.is_double()) return value.get_double();
    if (value.is_int64()) return static_cast<double>(value.get_int64());
    if (value.is_uint64()) return static_cast<double>(value.get_uint64());
    throw std::invalid_argument("not a number");
}

}  // namespace recprune::json_io
