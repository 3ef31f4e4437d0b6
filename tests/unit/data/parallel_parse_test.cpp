#include "recprune/sdk/parallel_parse.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace text = recprune::text;
using recprune::test::TempDir;

namespace {

// "row,value" lines; every line whose number is a multiple of 7 is malformed ("bad").
std::string numbered_lines(int count) {
    std::string out;
    for (int line = 1; line <= count; ++line) {
        if (line % 7 == 0) {
            out += "bad\n";
        } else {
            out += std::to_string(line) + "," + std::to_string(line * 10) + "\n";
        }
    }
    return out;
}

struct Parsed {
    std::vector<double> values;
    uint64_t rows = 0;
    uint64_t skipped = 0;
    std::vector<std::string> examples;
};

Parsed parse(const std::string& path, const char* policy, unsigned threads, uint64_t chunk_bytes) {
    recprune::Column column = text::make_numeric("value", RECPRUNE_COLUMN_ROLE_FEATURE);
    std::vector<recprune::Column*> columns = {&column};
    text::BadLines bad_lines(policy);
    text::ParallelParseOptions options{threads, chunk_bytes};
    Parsed out;
    out.rows = text::parse_lines_parallel(
        path, "test file", columns, bad_lines, options,
        [&](std::string_view line, const text::Location& where, uint64_t row) {
            std::vector<std::string_view> fields;
            text::split_exact(line, ",", 2, where, fields);
            column.numeric[row] = text::parse_double(fields[1], where, "value");
            return true;
        });
    out.values = column.numeric;
    out.skipped = bad_lines.skipped();
    out.examples = bad_lines.examples();
    return out;
}

}  // namespace

TEST_CASE("chunk plan: chunks cover the file at line ends") {
    TempDir dir;
    std::string content = "aa\nbbbb\nc\n\ndddd";
    std::string path = dir.write("lines.txt", content);

    std::vector<text::Chunk> chunks = text::plan_chunks(path, "test file", 4);

    // A chunk ends at the first line end 4 or more bytes into it: "aa\nbbbb\n" (8 bytes, 2
    // lines), then "c\n\ndddd" (7 bytes, 3 lines) runs to the end of the file.
    REQUIRE(chunks.size() == 2);
    CHECK(chunks[0].size == 8);
    CHECK(chunks[0].line_count == 2);
    CHECK(chunks[1].size == 7);
    CHECK(chunks[1].line_count == 3);
    uint64_t covered = 0, lines = 0;
    for (const text::Chunk& chunk : chunks) {
        CHECK(chunk.offset == covered);
        CHECK(chunk.first_row == lines);
        CHECK(chunk.first_line == lines + 1);
        covered += chunk.size;
        lines += chunk.line_count;
        if (chunk.offset + chunk.size < content.size()) {
            CHECK(content[chunk.offset + chunk.size - 1] == '\n');
        }
    }
    CHECK(covered == content.size());
    CHECK(lines == 5);  // aa, bbbb, c, the empty line and dddd without a final newline
}

TEST_CASE("parallel parse: small chunks on two threads match one chunk") {
    TempDir dir;
    std::string path = dir.write("rows.txt", numbered_lines(500));

    Parsed reference = parse(path, "skip", 1, 16u << 20);
    Parsed chunked = parse(path, "skip", 2, 64);

    // 500 lines, 71 of them multiples of 7 (7 * 71 = 497): 429 rows.
    CHECK(reference.rows == 429);
    CHECK(reference.skipped == 71);
    CHECK(chunked.rows == reference.rows);
    CHECK(chunked.skipped == reference.skipped);
    CHECK(chunked.values == reference.values);
    CHECK(chunked.examples == reference.examples);
    CHECK(reference.values[6] == 80.0);  // line 7 was dropped, so position 6 holds line 8
    REQUIRE_FALSE(reference.examples.empty());
    CHECK(reference.examples.front().find(":7: expected 2 fields") != std::string::npos);
}

TEST_CASE("parallel parse: the fail policy reports the first bad line of the file") {
    TempDir dir;
    std::string path = dir.write("rows.txt", numbered_lines(500));

    for (unsigned threads : {1u, 2u}) {
        CHECK_THROWS_WITH_AS(parse(path, "fail", threads, 64),
                             doctest::Contains((path + ":7: expected 2 fields").c_str()),
                             text::ParseError);
    }
}

TEST_CASE("parallel parse: an empty file gives no rows") {
    TempDir dir;
    std::string path = dir.write("empty.txt", "");

    Parsed parsed = parse(path, "fail", 2, 64);

    CHECK(parsed.rows == 0);
    CHECK(parsed.values.empty());
}
