// Header-only text-reading toolkit for dataset plugins.
//
// Reading a recommender data file right takes the same few pieces every time: fast buffered
// reading, lines that end in LF, CRLF or nothing at all, fields split without collapsing
// consecutive separators, strict number parsing whose errors name file:line and the field,
// Latin-1 and UTF-8 handling, and a stable 64-bit hash for string keys. This header gives those
// pieces to plugins, which build only against the public headers.
//
// Everything here is POSIX (open/read/mmap) and depends only on recprune/sdk.hpp.
#pragma once

#include "recprune/sdk.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace recprune::text {

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Place in a data file: the path as the plugin opened it and the 1-based line number.
struct Location {
    std::string_view file;
    uint64_t line = 0;
};

/// A malformed data line. Crosses the plugin boundary as RECPRUNE_STATUS_DATA_ERROR with a
/// message of the shape "malformed data: <file>:<line>: <field>: <why>; <fix>".
class ParseError : public Error {
public:
    ParseError(std::string file, uint64_t line, std::string field, const std::string& message)
        : Error(RECPRUNE_STATUS_DATA_ERROR, message),
          file_(std::move(file)),
          line_(line),
          field_(std::move(field)) {}

    const std::string& file() const noexcept { return file_; }
    uint64_t line() const noexcept { return line_; }
    /// Name of the field at fault; empty when the whole line is wrong (field count).
    const std::string& field() const noexcept { return field_; }

private:
    std::string file_;
    uint64_t line_;
    std::string field_;
};

/// Shows at most 40 bytes of a value, so one huge field does not flood the message.
inline std::string quote_value(std::string_view value) {
    constexpr size_t kMaxShown = 40;
    std::string out = "\"";
    out.append(value.substr(0, kMaxShown));
    if (value.size() > kMaxShown) out += "...";
    out += '"';
    return out;
}

/// The hint or_skip_bad_lines() appends. on_bad_line is a key of the grid's dataset entry, not
/// a plugin parameter, so the hint names where it goes.
inline constexpr std::string_view kSkipBadLinesHint =
    ", or set \"on_bad_line\": \"skip\" in the grid's dataset entry to drop such lines";

/// Returns `fix` followed by the other way out, skipping such lines.
inline std::string or_skip_bad_lines(std::string_view fix) {
    return std::string(fix) + std::string(kSkipBadLinesHint);
}

/// Throws a ParseError for `field` at `where`: "<why>; <fix>" follows the place.
[[noreturn]] inline void fail(const Location& where, std::string_view field, std::string_view why,
                              std::string_view fix) {
    std::string message = "malformed data: ";
    message.append(where.file);
    message += ':';
    message += std::to_string(where.line);
    message += ": ";
    if (!field.empty()) {
        message += "field \"";
        message.append(field);
        message += "\": ";
    }
    message.append(why);
    if (!fix.empty()) {
        message += "; ";
        message.append(fix);
    }
    throw ParseError(std::string(where.file), where.line, std::string(field), message);
}

/// Throws a ParseError when a line has `found` fields instead of `expected`.
[[noreturn]] inline void fail_field_count(const Location& where, size_t expected, size_t found,
                                          std::string_view separator) {
    std::string why = "expected " + std::to_string(expected) + " fields separated by " +
                      quote_value(separator) + ", found " + std::to_string(found);
    fail(where, {}, why, "check for a cut line or a wrong separator");
}

/// Throws a "missing file" error for a path the plugin needs.
[[noreturn]] inline void fail_missing_file(const std::string& path, std::string_view what) {
    throw Error(RECPRUNE_STATUS_DATA_ERROR,
                "missing data file: " + path + ": " + std::string(what) +
                    " does not exist or cannot be read; check the dataset's \"path\" parameter");
}

/// Counts bad lines when the grid says `on_bad_line: "skip"`, or fails on the first one.
///
/// Use: parse a whole line into locals inside `try`, append to the columns only at the end,
/// and call `record(error)` in `catch (const ParseError&)`, so a skipped line leaves nothing.
class BadLines {
public:
    /// `policy` is "fail" (default) or "skip".
    explicit BadLines(std::string_view policy = "fail") {
        if (policy != "fail" && policy != "skip") {
            throw InvalidArgument("invalid parameter: on_bad_line: " + quote_value(policy) +
                                  " is not one of fail, skip; use \"fail\" or \"skip\"");
        }
        skip_ = policy == "skip";
    }

    bool skipping() const noexcept { return skip_; }

    /// Rethrows `error` under the "fail" policy; under "skip" counts it and keeps the first
    /// few messages for the log and the result row.
    void record(const ParseError& error) {
        if (!skip_) throw error;
        ++skipped_;
        if (examples_.size() < kMaxExamples) {
            // The grid already skips such lines, so the hint to do so is left out.
            std::string example = error.what();
            if (const size_t hint = example.find(kSkipBadLinesHint); hint != std::string::npos) {
                example.erase(hint, kSkipBadLinesHint.size());
            }
            examples_.push_back(std::move(example));
        }
    }

    /// Adds the counts and examples of `other`, which covered later lines of the same file.
    void merge(const BadLines& other) {
        skipped_ += other.skipped_;
        for (const std::string& example : other.examples_) {
            if (examples_.size() < kMaxExamples) examples_.push_back(example);
        }
    }

    uint64_t skipped() const noexcept { return skipped_; }
    const std::vector<std::string>& examples() const noexcept { return examples_; }

    /// Writes "skipped_lines" and, when any, "skipped_examples" into a metadata object.
    void write_metadata(json& metadata) const {
        metadata["skipped_lines"] = skipped_;
        if (!examples_.empty()) metadata["skipped_examples"] = examples_;
    }

private:
    static constexpr size_t kMaxExamples = 5;
    bool skip_ = false;
    uint64_t skipped_ = 0;
    std::vector<std::string> examples_;
};

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/// Returns true when `path` names a regular file this process can open for reading.
inline bool is_readable_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), R_OK) == 0;
}

/// Returns true when `path` names a directory.
inline bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

/// Joins a folder and a file name with one '/'.
inline std::string join_path(std::string_view folder, std::string_view name) {
    std::string out(folder);
    if (!out.empty() && out.back() != '/') out += '/';
    out.append(name);
    return out;
}

/// An open file descriptor closed on destruction.
class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~FileDescriptor() { reset(); }

    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

/// Opens `path` read-only or throws a "missing data file" error.
inline FileDescriptor open_for_reading(const std::string& path, std::string_view what) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_missing_file(path, what);
    return FileDescriptor(fd);
}

/// A whole file mapped read-only. Suited to files read in one pass or split between threads;
/// mapped pages count toward resident memory while touched, so very large single-pass reads
/// should prefer LineReader, whose buffer stays small.
class MappedFile {
public:
    /// Maps `path`; `what` names the file's role in error messages ("ratings file").
    MappedFile(const std::string& path, std::string_view what) : path_(path) {
        FileDescriptor fd = open_for_reading(path, what);
        struct stat info {};
        if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) fail_missing_file(path, what);
        size_ = static_cast<size_t>(info.st_size);
        if (size_ == 0) return;
        void* address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (address == MAP_FAILED) {
            throw Error(RECPRUNE_STATUS_DATA_ERROR,
                        "cannot map data file: " + path + ": " + std::strerror(errno) +
                            "; check that the file is a regular, readable file");
        }
        ::madvise(address, size_, MADV_SEQUENTIAL);
        data_ = static_cast<const char*>(address);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    }

    std::string_view view() const noexcept { return {data_ == nullptr ? "" : data_, size_}; }
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    const char* data_ = nullptr;
    size_t size_ = 0;
};

/// Reads a whole file into a string (for small side files such as u.item).
inline std::string read_file(const std::string& path, std::string_view what) {
    FileDescriptor fd = open_for_reading(path, what);
    std::string out;
    char buffer[1 << 16];
    for (;;) {
        ssize_t count = ::read(fd.get(), buffer, sizeof(buffer));
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            throw Error(RECPRUNE_STATUS_DATA_ERROR, "cannot read data file: " + path + ": " +
                                                        std::strerror(errno) +
                                                        "; check the file and the disk");
        }
        if (count == 0) break;
        out.append(buffer, static_cast<size_t>(count));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------------

/// Removes one trailing '\r', so CRLF files read like LF files.
inline std::string_view strip_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

/// Iterates the lines of a memory range. A line ends at '\n'; one '\r' before it is dropped; a
/// last line without a final newline is still a line; an empty range has no lines.
class LineCursor {
public:
    explicit LineCursor(std::string_view text, uint64_t first_line_number = 1)
        : rest_(text), next_line_number_(first_line_number) {}

    /// Sets `line` to the next line without its terminator; returns false at the end.
    bool next(std::string_view& line) {
        if (rest_.empty()) return false;
        const void* newline = std::memchr(rest_.data(), '\n', rest_.size());
        size_t length = newline == nullptr
                            ? rest_.size()
                            : static_cast<size_t>(static_cast<const char*>(newline) - rest_.data());
        line = strip_cr(rest_.substr(0, length));
        rest_.remove_prefix(newline == nullptr ? length : length + 1);
        line_number_ = next_line_number_++;
        return true;
    }

    /// 1-based number of the line `next` returned last.
    uint64_t line_number() const noexcept { return line_number_; }

private:
    std::string_view rest_;
    uint64_t next_line_number_;
    uint64_t line_number_ = 0;
};

/// Reads the lines of a file through a fixed buffer (4 MiB by default), so resident memory
/// stays small whatever the file size. Line rules as in LineCursor. A line longer than the
/// buffer grows it.
class LineReader {
public:
    LineReader(const std::string& path, std::string_view what, size_t buffer_bytes = 4u << 20)
        : path_(path),
          fd_(open_for_reading(path, what)),
          capacity_(std::max<size_t>(buffer_bytes, 64)) {
        buffer_ = std::make_unique<char[]>(capacity_);
    }

    /// Sets `line` to the next line (valid until the next call); returns false at the end.
    bool next(std::string_view& line) {
        for (;;) {
            const char* start = buffer_.get() + begin_;
            size_t available = end_ - begin_;
            const void* newline = std::memchr(start, '\n', available);
            if (newline != nullptr) {
                size_t length = static_cast<size_t>(static_cast<const char*>(newline) - start);
                line = strip_cr({start, length});
                begin_ += length + 1;
                ++line_number_;
                return true;
            }
            if (eof_) {
                if (available == 0) return false;
                line = strip_cr({start, available});
                begin_ = end_;
                ++line_number_;
                return true;
            }
            refill();
        }
    }

    uint64_t line_number() const noexcept { return line_number_; }
    const std::string& path() const noexcept { return path_; }
    Location location() const noexcept { return {path_, line_number_}; }
    /// Bytes read from the file so far.
    uint64_t bytes_read() const noexcept { return bytes_read_; }

private:
    void refill() {
        // Move the partial line to the front, grow when it fills the buffer, then read more.
        size_t pending = end_ - begin_;
        if (begin_ > 0) {
            std::memmove(buffer_.get(), buffer_.get() + begin_, pending);
            begin_ = 0;
            end_ = pending;
        }
        if (end_ == capacity_) {
            auto grown = std::make_unique<char[]>(capacity_ * 2);
            std::memcpy(grown.get(), buffer_.get(), end_);
            buffer_ = std::move(grown);
            capacity_ *= 2;
        }
        for (;;) {
            ssize_t count = ::read(fd_.get(), buffer_.get() + end_, capacity_ - end_);
            if (count < 0 && errno == EINTR) continue;
            if (count < 0) {
                throw Error(RECPRUNE_STATUS_DATA_ERROR, "cannot read data file: " + path_ + ": " +
                                                            std::strerror(errno) +
                                                            "; check the file and the disk");
            }
            if (count == 0) eof_ = true;
            end_ += static_cast<size_t>(count);
            bytes_read_ += static_cast<uint64_t>(count);
            return;
        }
    }

    std::string path_;
    FileDescriptor fd_;
    std::unique_ptr<char[]> buffer_;
    size_t capacity_;
    size_t begin_ = 0;
    size_t end_ = 0;
    bool eof_ = false;
    uint64_t line_number_ = 0;
    uint64_t bytes_read_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Chunks, for parsing one file on several threads
// ---------------------------------------------------------------------------------------------

/// A byte range of a file made of whole lines: it starts at a line start and ends just after a
/// '\n' or at the end of the file.
struct Chunk {
    uint64_t offset = 0;
    uint64_t size = 0;
    /// 1-based number of the chunk's first line in the file.
    uint64_t first_line = 1;
    uint64_t line_count = 0;
    /// Lines in all chunks before this one, i.e. the table row of this chunk's first line
    /// when every line is a row.
    uint64_t first_row = 0;
};

/// Cuts a file into chunks of about `chunk_bytes` at line ends and counts their lines, reading
/// the file once through a small buffer. Line rules as in LineReader: a last line without a
/// final newline counts, a final newline adds no line.
inline std::vector<Chunk> plan_chunks(const std::string& path, std::string_view what,
                                      uint64_t chunk_bytes = 16u << 20) {
    FileDescriptor fd = open_for_reading(path, what);
    constexpr size_t kBufferBytes = 1u << 20;
    auto buffer = std::make_unique<char[]>(kBufferBytes);
    std::vector<Chunk> chunks;
    Chunk current;
    uint64_t position = 0;  // bytes read so far
    uint64_t lines_before = 0;
    bool ends_with_newline = true;
    for (;;) {
        ssize_t count = ::read(fd.get(), buffer.get(), kBufferBytes);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            throw Error(RECPRUNE_STATUS_DATA_ERROR, "cannot read data file: " + path + ": " +
                                                        std::strerror(errno) +
                                                        "; check the file and the disk");
        }
        if (count == 0) break;
        const char* cursor = buffer.get();
        const char* end = cursor + count;
        while (cursor < end) {
            const void* hit = std::memchr(cursor, '\n', static_cast<size_t>(end - cursor));
            if (hit == nullptr) break;
            cursor = static_cast<const char*>(hit) + 1;
            ++current.line_count;
            uint64_t line_end = position + static_cast<uint64_t>(cursor - buffer.get());
            if (line_end - current.offset >= chunk_bytes) {
                current.size = line_end - current.offset;
                current.first_row = lines_before;
                lines_before += current.line_count;
                chunks.push_back(current);
                current = Chunk{line_end, 0, lines_before + 1, 0, 0};
            }
        }
        position += static_cast<uint64_t>(count);
        ends_with_newline = buffer[static_cast<size_t>(count) - 1] == '\n';
    }
    if (position > current.offset) {
        if (!ends_with_newline) ++current.line_count;
        current.size = position - current.offset;
        current.first_row = lines_before;
        chunks.push_back(current);
    }
    return chunks;
}

/// Reads `chunk` of the file open as `fd` into `buffer` and returns its text.
inline std::string_view read_chunk(int fd, const std::string& path, const Chunk& chunk,
                                   std::string& buffer) {
    buffer.resize(chunk.size);
    uint64_t done = 0;
    while (done < chunk.size) {
        ssize_t count = ::pread(fd, buffer.data() + done, chunk.size - done,
                                static_cast<off_t>(chunk.offset + done));
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) {
            throw Error(RECPRUNE_STATUS_DATA_ERROR,
                        "cannot read data file: " + path + ": " +
                            (count == 0 ? std::string("file shrank while reading")
                                        : std::string(std::strerror(errno))) +
                            "; check that nothing writes the file during the load");
        }
        done += static_cast<uint64_t>(count);
    }
    return buffer;
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/// Splits `line` at every occurrence of `separator` into `fields` (cleared first). Consecutive
/// separators give empty fields and are never collapsed, so n separators always give n + 1
/// fields. `separator` may be several characters ("::"); it must not be empty.
inline void split(std::string_view line, std::string_view separator,
                  std::vector<std::string_view>& fields) {
    fields.clear();
    if (separator.size() == 1) {
        const char sep = separator[0];
        const char* cursor = line.data();
        const char* end = cursor + line.size();
        for (;;) {
            const void* hit = std::memchr(cursor, sep, static_cast<size_t>(end - cursor));
            if (hit == nullptr) {
                fields.emplace_back(cursor, static_cast<size_t>(end - cursor));
                return;
            }
            const char* at = static_cast<const char*>(hit);
            fields.emplace_back(cursor, static_cast<size_t>(at - cursor));
            cursor = at + 1;
        }
    }
    size_t start = 0;
    for (;;) {
        size_t at = line.find(separator, start);
        if (at == std::string_view::npos) {
            fields.push_back(line.substr(start));
            return;
        }
        fields.push_back(line.substr(start, at - start));
        start = at + separator.size();
    }
}

/// Splits like split() and fails with a field-count error unless exactly `expected` fields
/// come out.
inline void split_exact(std::string_view line, std::string_view separator, size_t expected,
                        const Location& where, std::vector<std::string_view>& fields) {
    split(line, separator, fields);
    if (fields.size() != expected) fail_field_count(where, expected, fields.size(), separator);
}

/// Splits a line of quoted CSV (RFC 4180 within one line): a field that starts with `quote`
/// runs to the matching closing quote, and a doubled quote inside stands for one quote
/// character. Quoted fields are unescaped into `storage`, which must outlive `fields`.
/// Fails when a quoted field is not closed or text follows its closing quote.
inline void split_quoted(std::string_view line, char separator, char quote, const Location& where,
                         std::vector<std::string_view>& fields, std::string& storage) {
    fields.clear();
    storage.clear();
    // Unescaped text is appended to `storage` first and viewed at the end, because views into
    // a string that is still growing would dangle.
    struct Span {
        bool in_storage;
        size_t offset;
        size_t size;
    };
    std::vector<Span> spans;
    size_t position = 0;
    for (;;) {
        if (position < line.size() && line[position] == quote) {
            size_t start = storage.size();
            size_t cursor = position + 1;
            for (;;) {
                size_t close = line.find(quote, cursor);
                if (close == std::string_view::npos) {
                    fail(where, {},
                         "quoted field " + std::to_string(spans.size() + 1) + " is not closed",
                         "close the quote; fields that span lines are not supported");
                }
                storage.append(line.substr(cursor, close - cursor));
                if (close + 1 < line.size() && line[close + 1] == quote) {
                    storage += quote;
                    cursor = close + 2;
                    continue;
                }
                position = close + 1;
                break;
            }
            spans.push_back({true, start, storage.size() - start});
            if (position == line.size()) break;
            if (line[position] != separator) {
                fail(where, {},
                     "text after the closing quote of field " + std::to_string(spans.size()),
                     "quote the whole field or double the quote character inside it");
            }
            ++position;
            continue;
        }
        size_t end = line.find(separator, position);
        if (end == std::string_view::npos) {
            spans.push_back({false, position, line.size() - position});
            break;
        }
        spans.push_back({false, position, end - position});
        position = end + 1;
    }
    for (const Span& span : spans) {
        fields.push_back(span.in_storage ? std::string_view(storage).substr(span.offset, span.size)
                                         : line.substr(span.offset, span.size));
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers: the whole field must be the number, with no spaces; errors name the field.
// ---------------------------------------------------------------------------------------------

/// Parses a signed decimal integer (optional sign); false when `text` is anything else.
inline bool try_parse_int(std::string_view text, int64_t& value) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty() || text.front() == '+') return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

/// Parses an unsigned decimal integer of up to 20 digits; false on anything else.
inline bool try_parse_uint(std::string_view text, uint64_t& value) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty() || text.front() == '-' || text.front() == '+') return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

/// Parses a finite decimal number ("4", "-0.5", "1e3"); false on anything else, including
/// "nan" and "inf".
inline bool try_parse_double(std::string_view text, double& value) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty() || text.front() == '+') return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

/// Parses 1 to 16 hexadecimal digits (either case) into a 64-bit value.
inline bool try_parse_hex(std::string_view text, uint64_t& value) {
    if (text.empty() || text.size() > 16) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    return error == std::errc() && end == text.data() + text.size();
}

inline int64_t parse_int(std::string_view text, const Location& where, std::string_view field) {
    int64_t value = 0;
    if (!try_parse_int(text, value)) {
        fail(where, field, "expected an integer, found " + quote_value(text),
             or_skip_bad_lines("fix the value"));
    }
    return value;
}

inline uint64_t parse_uint(std::string_view text, const Location& where, std::string_view field) {
    uint64_t value = 0;
    if (!try_parse_uint(text, value)) {
        fail(where, field, "expected a non-negative integer, found " + quote_value(text),
             or_skip_bad_lines("fix the value"));
    }
    return value;
}

inline double parse_double(std::string_view text, const Location& where, std::string_view field) {
    double value = 0.0;
    if (!try_parse_double(text, value)) {
        fail(where, field, "expected a finite number, found " + quote_value(text),
             or_skip_bad_lines("fix the value"));
    }
    return value;
}

/// Parses a number where an empty field means missing (returns NaN).
inline double parse_double_or_missing(std::string_view text, const Location& where,
                                      std::string_view field) {
    if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
    return parse_double(text, where, field);
}

// ---------------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------------

/// Converts ISO-8859-1 (Latin-1) bytes to UTF-8; every byte is one code point.
inline std::string latin1_to_utf8(std::string_view latin1) {
    std::string out;
    out.reserve(latin1.size() + latin1.size() / 8);
    for (char c : latin1) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xC0 | (byte >> 6));
            out += static_cast<char>(0x80 | (byte & 0x3F));
        }
    }
    return out;
}

/// Returns the offset of the first byte that is not part of well-formed UTF-8 (overlong forms,
/// surrogates and code points above U+10FFFF are ill-formed), or std::string_view::npos.
inline size_t find_invalid_utf8(std::string_view text) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    const size_t size = text.size();
    size_t i = 0;
    while (i < size) {
        unsigned char lead = bytes[i];
        if (lead < 0x80) {
            ++i;
            continue;
        }
        size_t length = 0;
        unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            if (lead == 0xE0) low = 0xA0;
            if (lead == 0xED) high = 0x9F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            if (lead == 0xF0) low = 0x90;
            if (lead == 0xF4) high = 0x8F;
        } else {
            return i;
        }
        if (i + length > size) return i;
        if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
        for (size_t k = 2; k < length; ++k) {
            if ((bytes[i + k] & 0xC0) != 0x80) return i;
        }
        i += length;
    }
    return std::string_view::npos;
}

/// Fails unless `text` is well-formed UTF-8; the message gives the byte and its column.
inline void require_utf8(std::string_view text, const Location& where, std::string_view field) {
    size_t offset = find_invalid_utf8(text);
    if (offset == std::string_view::npos) return;
    static constexpr char kHex[] = "0123456789ABCDEF";
    auto byte = static_cast<unsigned char>(text[offset]);
    std::string why = "expected UTF-8 text, found byte 0x";
    why += kHex[byte >> 4];
    why += kHex[byte & 0xF];
    why += " at byte " + std::to_string(offset + 1) + " of the field";
    fail(where, field, why, "convert the file to UTF-8, or read it with the encoding it has");
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

namespace detail {

inline uint64_t mix64(uint64_t value) {
    // Murmur3-style finalizer: every input bit affects every output bit.
    value ^= value >> 33;
    value *= 0xff51afd7ed558ccdULL;
    value ^= value >> 33;
    value *= 0xc4ceb9fe1a85ec53ULL;
    value ^= value >> 33;
    return value;
}

inline uint64_t load_le(const unsigned char* bytes, size_t count) {
    uint64_t word = 0;
    for (size_t k = 0; k < count; ++k) word |= static_cast<uint64_t>(bytes[k]) << (8 * k);
    return word;
}

}  // namespace detail

/// 64-bit hash of a token for use as a raw categorical key. Stable across runs, platforms and
/// versions of this header (it is part of the cache format), and never equal to
/// RECPRUNE_MISSING_KEY. `seed` separates key spaces, e.g. per column.
inline uint64_t hash_token(std::string_view token, uint64_t seed = 0) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(token.data());
    size_t size = token.size();
    uint64_t state = detail::mix64(seed ^ (0x9e3779b97f4a7c15ULL * (size + 1)));
    while (size >= 8) {
        uint64_t word = detail::load_le(bytes, 8);
        state = detail::mix64(state ^ word) + 0x9e3779b97f4a7c15ULL;
        bytes += 8;
        size -= 8;
    }
    if (size > 0)
        state = detail::mix64(state ^ detail::load_le(bytes, size) ^ (uint64_t{size} << 56));
    state = detail::mix64(state);
    return state == RECPRUNE_MISSING_KEY ? state - 1 : state;
}

/// Returns RECPRUNE_MISSING_KEY for an empty token, else hash_token(token, seed).
inline uint64_t key_or_missing(std::string_view token, uint64_t seed = 0) {
    return token.empty() ? RECPRUNE_MISSING_KEY : hash_token(token, seed);
}

// ---------------------------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------------------------

/// Builds a CATEGORICAL column.
inline Column make_categorical(std::string name, uint32_t roles = RECPRUNE_COLUMN_ROLE_FEATURE) {
    Column column;
    column.name = std::move(name);
    column.type = RECPRUNE_COLUMN_TYPE_CATEGORICAL;
    column.roles = roles;
    return column;
}

/// Builds a MULTI_HOT column with its first offset (0) in place.
inline Column make_multi_hot(std::string name, uint32_t roles = RECPRUNE_COLUMN_ROLE_FEATURE) {
    Column column = make_categorical(std::move(name), roles);
    column.type = RECPRUNE_COLUMN_TYPE_MULTI_HOT;
    column.offsets.push_back(0);
    return column;
}

/// Builds a NUMERIC column.
inline Column make_numeric(std::string name, uint32_t roles) {
    Column column = make_categorical(std::move(name), roles);
    column.type = RECPRUNE_COLUMN_TYPE_NUMERIC;
    return column;
}

/// Returns the lines in a memory range (a fast count of '\n' plus a last unterminated line),
/// for reserving column storage before parsing.
inline uint64_t count_lines(std::string_view text) {
    uint64_t count = 0;
    const char* cursor = text.data();
    const char* end = cursor + text.size();
    while (cursor < end) {
        const void* hit = std::memchr(cursor, '\n', static_cast<size_t>(end - cursor));
        ++count;
        if (hit == nullptr) break;
        cursor = static_cast<const char*>(hit) + 1;
    }
    return count;
}

}  // namespace recprune::text
