#include "recprune/sdk/text.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

namespace text = recprune::text;
using recprune::test::TempDir;

namespace {

std::vector<std::string> read_lines(const std::string& path, size_t buffer_bytes = 4u << 20) {
    text::LineReader reader(path, "test file", buffer_bytes);
    std::vector<std::string> lines;
    std::string_view line;
    while (reader.next(line)) lines.emplace_back(line);
    return lines;
}

std::vector<std::string> cursor_lines(std::string_view bytes) {
    text::LineCursor cursor(bytes);
    std::vector<std::string> lines;
    std::string_view line;
    while (cursor.next(line)) lines.emplace_back(line);
    return lines;
}

}  // namespace

TEST_CASE("text: CRLF endings and a missing final newline read like LF lines") {
    TempDir dir;
    // The bytes of case B16.1: CRLF endings and no newline after the last line.
    std::string path = dir.write("crlf.csv", "user,item,label\r\n1,10,1\r\n2,10,0");

    std::vector<std::string> lines = read_lines(path);

    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "user,item,label");
    CHECK(lines[1] == "1,10,1");
    CHECK(lines[2] == "2,10,0");
    CHECK(cursor_lines("user,item,label\r\n1,10,1\r\n2,10,0") == lines);
}

TEST_CASE("text: a final newline adds no empty line but inner empty lines stay") {
    TempDir dir;
    std::string path = dir.write("empty.txt", "a\n\nb\n");

    std::vector<std::string> lines = read_lines(path);

    REQUIRE(lines.size() == 3);
    CHECK(lines[1].empty());
    CHECK(read_lines(dir.write("none.txt", "")).empty());
    CHECK(cursor_lines("a\n\nb\n").size() == 3);
}

TEST_CASE("text: line numbers count every line including empty ones") {
    TempDir dir;
    std::string path = dir.write("numbers.txt", "a\n\r\nc");
    text::LineReader reader(path, "test file");
    std::string_view line;

    std::vector<uint64_t> numbers;
    while (reader.next(line)) numbers.push_back(reader.line_number());

    CHECK(numbers == std::vector<uint64_t>{1, 2, 3});
}

TEST_CASE("text: lines longer than the read buffer come back whole") {
    TempDir dir;
    std::string long_line(1000, 'x');
    std::string path = dir.write("long.txt", "short\n" + long_line + "\r\nend");

    // A 64-byte buffer forces both refills and growth.
    std::vector<std::string> lines = read_lines(path, 64);

    REQUIRE(lines.size() == 3);
    CHECK(lines[1] == long_line);
    CHECK(lines[2] == "end");
}

TEST_CASE("text: a missing file is reported with its path and role") {
    TempDir dir;
    std::string path = (dir.path() / "absent.dat").string();

    CHECK_THROWS_WITH_AS(
        text::LineReader(path, "the ratings file"),
        doctest::Contains(("missing data file: " + path + ": the ratings file").c_str()),
        recprune::Error);
}

TEST_CASE("text: consecutive tab separators are never collapsed") {
    // Case B17: label "1", I1 "", I2 "-1", I3 "5", I4-I13 "", C1 "", C2 "68fd1e64", C3-C26 "".
    std::string line = "1\t\t-1\t5";
    for (int i = 4; i <= 13; ++i) line += "\t";
    line += "\t\t68fd1e64";
    for (int i = 3; i <= 26; ++i) line += "\t";
    std::vector<std::string_view> fields;

    text::split(line, "\t", fields);

    // 39 tabs give 40 fields: label + 13 integer + 26 categorical.
    REQUIRE(fields.size() == 40);
    CHECK(fields[0] == "1");
    CHECK(fields[1].empty());
    CHECK(fields[2] == "-1");
    CHECK(fields[3] == "5");
    CHECK(fields[14].empty());
    CHECK(fields[15] == "68fd1e64");
    CHECK(fields[39].empty());
}

TEST_CASE("text: multi-character separators split at each occurrence") {
    std::vector<std::string_view> fields;

    text::split("14927::0110912::9::1375657563", "::", fields);
    REQUIRE(fields.size() == 4);
    CHECK(fields[1] == "0110912");

    text::split("a::::b::", "::", fields);
    REQUIRE(fields.size() == 4);
    CHECK(fields[0] == "a");
    CHECK(fields[1].empty());
    CHECK(fields[2] == "b");
    CHECK(fields[3].empty());

    text::split("", ",", fields);
    CHECK(fields.size() == 1);
}

TEST_CASE("text: a wrong field count names file, line and both counts") {
    std::vector<std::string_view> fields;
    text::Location where{"ml-100k/u.data", 1187};

    CHECK_THROWS_WITH_AS(text::split_exact("196\t242\t3", "\t", 4, where, fields),
                         "malformed data: ml-100k/u.data:1187: expected 4 fields separated by "
                         "\"\t\", found 3; check for a cut line or a wrong separator",
                         text::ParseError);
}

TEST_CASE("text: strict integer parsing rejects anything but the number") {
    int64_t value = 0;
    uint64_t unsigned_value = 0;

    CHECK(text::try_parse_int("-42", value));
    CHECK(value == -42);
    CHECK(text::try_parse_int("+7", value));
    CHECK(value == 7);
    CHECK_FALSE(text::try_parse_int("", value));
    CHECK_FALSE(text::try_parse_int(" 4", value));
    CHECK_FALSE(text::try_parse_int("4 ", value));
    CHECK_FALSE(text::try_parse_int("4.5", value));
    CHECK_FALSE(text::try_parse_int("4\r", value));
    CHECK_FALSE(text::try_parse_int("++4", value));
    CHECK_FALSE(text::try_parse_int("99999999999999999999", value));
    // A 20-digit Avazu id fits uint64 but not int64.
    CHECK(text::try_parse_uint("10000174058809263569", unsigned_value));
    CHECK(unsigned_value == 10000174058809263569ULL);
    CHECK_FALSE(text::try_parse_uint("-1", unsigned_value));
}

TEST_CASE("text: strict number parsing accepts decimals and rejects non-finite text") {
    double value = 0.0;

    CHECK(text::try_parse_double("3.5", value));
    CHECK(value == 3.5);
    CHECK(text::try_parse_double("-1e3", value));
    CHECK(value == -1000.0);
    CHECK_FALSE(text::try_parse_double("nan", value));
    CHECK_FALSE(text::try_parse_double("inf", value));
    CHECK_FALSE(text::try_parse_double("1e999", value));
    CHECK_FALSE(text::try_parse_double("rating", value));
    CHECK_FALSE(text::try_parse_double("", value));
}

TEST_CASE("text: a parse error names file, line, field and the value found") {
    text::Location where{"ratings.dat", 12};

    try {
        text::parse_double("rating", where, "rating");
        FAIL("no exception");
    } catch (const text::ParseError& error) {
        CHECK(std::string(error.what()) ==
              "malformed data: ratings.dat:12: field \"rating\": expected a finite number, found "
              "\"rating\"; fix the value, or set \"on_bad_line\": \"skip\" in the grid's "
              "dataset entry to drop such lines");
        CHECK(error.file() == "ratings.dat");
        CHECK(error.line() == 12);
        CHECK(error.field() == "rating");
        CHECK(error.status() == RECPRUNE_STATUS_DATA_ERROR);
    }
    CHECK_THROWS_WITH_AS(text::parse_int("4.5", where, "user_id"),
                         doctest::Contains("field \"user_id\": expected an integer, found \"4.5\""),
                         text::ParseError);
}

TEST_CASE("text: Latin-1 bytes become UTF-8") {
    // Case B14: 0xE9 is "é" in Latin-1, C3 A9 in UTF-8.
    std::string converted = text::latin1_to_utf8("Caf\xE9 Society (1999)");

    CHECK(converted == "Caf\xC3\xA9 Society (1999)");
    CHECK(text::find_invalid_utf8(converted) == std::string_view::npos);
    CHECK(text::latin1_to_utf8("plain") == "plain");
    CHECK(text::latin1_to_utf8("\xFF") == "\xC3\xBF");
}

TEST_CASE("text: UTF-8 validation finds the first ill-formed byte") {
    CHECK(text::find_invalid_utf8("Fant\xC3\xB4mas") == std::string_view::npos);
    CHECK(text::find_invalid_utf8("\xF0\x9F\x8E\xAC film") == std::string_view::npos);
    // A Latin-1 é followed by a space is not a continuation.
    CHECK(text::find_invalid_utf8("Caf\xE9 Society") == 3);
    // Overlong "/" (C0 AF), a UTF-16 surrogate (ED A0 80), past U+10FFFF (F4 90 80 80).
    CHECK(text::find_invalid_utf8("\xC0\xAF") == 0);
    CHECK(text::find_invalid_utf8("a\xED\xA0\x80") == 1);
    CHECK(text::find_invalid_utf8("\xF4\x90\x80\x80") == 0);
    // Cut short at the end.
    CHECK(text::find_invalid_utf8("ok\xC3") == 2);
}

TEST_CASE("text: invalid UTF-8 in a field is an error naming the byte") {
    text::Location where{"movies.dat", 3};

    CHECK_THROWS_WITH_AS(text::require_utf8("Caf\xE9", where, "title"),
                         "malformed data: movies.dat:3: field \"title\": expected UTF-8 text, "
                         "found byte 0xE9 at byte 4 of the field; convert the file to UTF-8, or "
                         "read it with the encoding it has",
                         text::ParseError);
}

TEST_CASE("text: token hashes are stable and never the missing key") {
    // Values fixed when the hash was written; the binary cache depends on them not changing.
    const uint64_t hash_abc = text::hash_token("abc");
    const uint64_t hash_empty = text::hash_token("");

    CHECK(hash_abc == 9344685336644388586ULL);
    CHECK(text::hash_token("68fd1e64") == 7625903048276535163ULL);
    CHECK(hash_abc == text::hash_token(std::string("abc")));
    CHECK(hash_abc != text::hash_token("abd"));
    CHECK(hash_abc != text::hash_token("abc", 1));
    CHECK(text::hash_token("0120735") != text::hash_token("120735"));
    CHECK(hash_empty != RECPRUNE_MISSING_KEY);
    CHECK(text::key_or_missing("") == RECPRUNE_MISSING_KEY);
    CHECK(text::key_or_missing("x") == text::hash_token("x"));
    // Tokens of 8 and 16 bytes take the whole-word path only.
    CHECK(text::hash_token("68fd1e64") != text::hash_token("68fd1e65"));
    CHECK(text::hash_token("0123456789abcdef") != text::hash_token("0123456789abcdeg"));
}

TEST_CASE("text: the skip policy counts bad lines and keeps the first messages") {
    text::BadLines skip("skip");
    text::BadLines fail("fail");
    text::ParseError error("f.dat", 3, "rating", "malformed data: f.dat:3: bad");

    for (int i = 0; i < 7; ++i) skip.record(error);

    CHECK(skip.skipped() == 7);
    CHECK(skip.examples().size() == 5);
    CHECK_THROWS_AS(fail.record(error), text::ParseError);
    CHECK_THROWS_AS(text::BadLines("ignore"), recprune::InvalidArgument);
    recprune::json metadata = recprune::json::object();
    skip.write_metadata(metadata);
    CHECK(metadata["skipped_lines"] == 7);
}

TEST_CASE("text: count_lines counts a last line without newline") {
    CHECK(text::count_lines("") == 0);
    CHECK(text::count_lines("a") == 1);
    CHECK(text::count_lines("a\n") == 1);
    CHECK(text::count_lines("a\nb") == 2);
    CHECK(text::count_lines("\n\n") == 2);
}

TEST_CASE("text: quoted fields keep separators and doubled quotes") {
    text::Location where{"books.csv", 2};
    std::vector<std::string_view> fields;
    std::string storage;

    text::split_quoted("1,\"Dune, Part One\",\"say \"\"hi\"\"\",,x", ',', '"', where, fields,
                       storage);

    REQUIRE(fields.size() == 5);
    CHECK(fields[0] == "1");
    CHECK(fields[1] == "Dune, Part One");
    CHECK(fields[2] == "say \"hi\"");
    CHECK(fields[3].empty());
    CHECK(fields[4] == "x");
}

TEST_CASE("text: an unclosed quote or text after a quote is an error") {
    text::Location where{"books.csv", 4};
    std::vector<std::string_view> fields;
    std::string storage;

    CHECK_THROWS_WITH_AS(text::split_quoted("1,\"open", ',', '"', where, fields, storage),
                         "malformed data: books.csv:4: quoted field 2 is not closed; close the "
                         "quote; fields that span lines are not supported",
                         text::ParseError);
    CHECK_THROWS_WITH_AS(text::split_quoted("\"a\"b,c", ',', '"', where, fields, storage),
                         doctest::Contains("text after the closing quote of field 1"),
                         text::ParseError);
}
