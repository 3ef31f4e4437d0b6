#include "core/json_io.hpp"

#include "core/errors.hpp"

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

// Boost.JSON 1.81 reports no position for a syntax error, so the failing input is fed again
// to a stream parser, whose write_some() returns how many bytes it consumed before the error,
// or before the text that follows a complete value. A text that ends too early is consumed
// whole. Feeding one byte at a time instead is wrong in 1.81: a "//" comment split across
// calls fails at the next token, so a grid that starts with a comment reported line 2.
size_t find_error_offset(std::string_view text) {
    boost::json::stream_parser parser({}, grid_parse_options());
    boost::system::error_code ec;
    return parser.write_some(text.data(), text.size(), ec);
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

boost::json::value parse(std::string_view text, const std::string& source) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec, {}, grid_parse_options());
    if (!ec) return value;

    size_t offset = find_error_offset(text);
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
    throw ConfigError("invalid JSON: " + source + ":" + std::to_string(line) + ":" +
                      std::to_string(column) + ": " + ec.message() +
                      "; check the brackets, commas and quotes before this point");
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
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw std::runtime_error("cannot write " + temporary.string() + ": " +
                                 std::strerror(errno));
    }
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            throw std::runtime_error("cannot write " + temporary.string() + ": " +
                                     std::strerror(saved));
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        int saved = errno;
        ::unlink(temporary.c_str());
        throw std::runtime_error("cannot flush " + temporary.string() + ": " +
                                 std::strerror(saved));
    }
    std::filesystem::rename(temporary, path);
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
