#include "harness/harness.hpp"
#include "harness/support.hpp"

#include "recprune/sdk/text.hpp"

#include <algorithm>
#include <cmath>

namespace recprune::fuzz {
namespace {

// Runs `body`; a recprune::Error of the SDK with a message is a clean rejection of bad text.
template <typename Body>
void accept_or_reject(Body&& body) {
    try {
        body();
    } catch (const recprune::Error& e) {
        check_rejection_message(e.what());
    }
}

constexpr char kSeparators[] = {',', '\t', '|', ';', ':', ' ', '"', '\r'};

std::string join(const std::vector<std::string_view>& fields, std::string_view separator) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out.append(separator);
        out.append(fields[i]);
    }
    return out;
}

// LineReader with a small buffer and plan_chunks must see the lines LineCursor sees.
void check_file_readers(const std::vector<std::string_view>& lines, std::string_view body,
                        unsigned char options) {
    const std::filesystem::path path = scratch_dir() / "text-input";
    write_bytes(path, body);

    text::LineReader reader(path.string(), "the fuzz file", size_t{64} << (options >> 6));
    std::string_view line;
    for (size_t i = 0; i < lines.size(); ++i) {
        require(reader.next(line), "LineReader ended early at line " + std::to_string(i + 1));
        require(line == lines[i], "LineReader and LineCursor differ at line " +
                                      std::to_string(i + 1));
        require(reader.line_number() == i + 1, "LineReader numbers lines wrongly");
    }
    require(!reader.next(line), "LineReader found more lines than LineCursor");
    require(reader.bytes_read() == body.size(), "LineReader did not read the whole file");

    const uint64_t chunk_bytes = 1 + ((options >> 3) & 3) * 7;
    std::vector<text::Chunk> chunks = text::plan_chunks(path.string(), "the fuzz file", chunk_bytes);
    text::FileDescriptor fd = text::open_for_reading(path.string(), "the fuzz file");
    uint64_t offset = 0;
    uint64_t line_count = 0;
    std::string buffer;
    for (const text::Chunk& chunk : chunks) {
        require(chunk.offset == offset, "chunks are not contiguous");
        require(chunk.first_row == line_count, "a chunk's first row is wrong");
        require(chunk.first_line == line_count + 1, "a chunk's first line is wrong");
        std::string_view chunk_text = text::read_chunk(fd.get(), path.string(), chunk, buffer);
        text::LineCursor cursor(chunk_text, chunk.first_line);
        uint64_t in_chunk = 0;
        while (cursor.next(line)) {
            require(line_count + in_chunk < lines.size() && line == lines[line_count + in_chunk],
                    "a chunk's lines differ from the file's lines");
            ++in_chunk;
        }
        require(in_chunk == chunk.line_count, "a chunk's line count is wrong");
        offset += chunk.size;
        line_count += chunk.line_count;
    }
    require(offset == body.size(), "the chunks do not cover the file");
    require(line_count == lines.size(), "the chunks hold another number of lines");
}

void check_numbers(std::string_view field, const text::Location& where) {
    int64_t signed_value = 0;
    uint64_t unsigned_value = 0;
    double real = 0.0;
    if (text::try_parse_double(field, real)) {
        require(std::isfinite(real), "try_parse_double accepted a value that is not finite");
    }
    if (text::try_parse_uint(field, unsigned_value) && unsigned_value <= INT64_MAX) {
        require(text::try_parse_int(field, signed_value) &&
                    static_cast<uint64_t>(signed_value) == unsigned_value,
                "an unsigned integer does not read back as a signed one");
    }
    text::try_parse_hex(field, unsigned_value);
    accept_or_reject([&] { text::parse_int(field, where, "number"); });
    accept_or_reject([&] { text::parse_uint(field, where, "number"); });
    accept_or_reject([&] { text::parse_double_or_missing(field, where, "number"); });
}

void check_encodings(std::string_view field, const text::Location& where) {
    std::string converted = text::latin1_to_utf8(field);
    require(text::find_invalid_utf8(converted) == std::string_view::npos,
            "latin1_to_utf8 produced text that is not UTF-8");
    if (text::find_invalid_utf8(field) == std::string_view::npos) {
        text::require_utf8(field, where, "text");
    } else {
        accept_or_reject([&] { text::require_utf8(field, where, "text"); });
    }
    require(text::hash_token(field) != RECPRUNE_MISSING_KEY, "a token hashed to the missing key");
    require(text::key_or_missing(field) == (field.empty() ? RECPRUNE_MISSING_KEY
                                                          : text::hash_token(field)),
            "key_or_missing disagrees with hash_token");
}

}  // namespace

// The first input byte picks the separator (bits 0-2), the chunk size (bits 3-4), "::" as the
// separator of split() (bit 5) and the LineReader buffer (bits 6-7); the rest is the file.
void run_text(std::string_view input) {
    init_once();
    if (input.empty()) return;
    const auto options = static_cast<unsigned char>(input[0]);
    const std::string_view body = input.substr(1);
    const char separator = kSeparators[options & 7];
    const std::string_view separator_text =
        (options & 0x20) != 0 ? std::string_view("::") : std::string_view(&separator, 1);

    std::vector<std::string_view> lines;
    text::LineCursor cursor(body);
    std::string_view line;
    while (cursor.next(line)) lines.push_back(line);
    require(text::count_lines(body) == lines.size(), "count_lines disagrees with LineCursor");
    check_file_readers(lines, body, options);

    std::vector<std::string_view> fields;
    std::vector<std::string_view> quoted_fields;
    std::string storage;
    for (size_t i = 0; i < lines.size(); ++i) {
        const text::Location where{"the fuzz file", i + 1};
        text::split(lines[i], separator_text, fields);
        require(join(fields, separator_text) == lines[i], "split fields do not join back");
        if (separator_text.size() == 1) {
            require(fields.size() ==
                        static_cast<size_t>(std::count(lines[i].begin(), lines[i].end(),
                                                       separator)) + 1,
                    "split did not give one field more than separators");
        }
        accept_or_reject([&] {
            text::split_quoted(lines[i], separator, '"', where, quoted_fields, storage);
            if (separator != '"' && lines[i].find('"') == std::string_view::npos) {
                require(quoted_fields == fields || separator_text.size() != 1,
                        "split_quoted without quotes differs from split");
            }
        });
        accept_or_reject(
            [&] { text::split_exact(lines[i], separator_text, 3, where, quoted_fields); });
        for (std::string_view field : fields) {
            check_numbers(field, where);
            check_encodings(field, where);
        }
    }
}

}  // namespace recprune::fuzz
