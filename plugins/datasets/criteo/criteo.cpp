// Criteo display-advertising dataset plugin: the Kaggle 2014 challenge TSV files (and the
// Terabyte click logs, which share the layout).
//
// One impression per line, TAB-separated, no header: label (0/1 click), I1..I13 (integer
// counts), C1..C26 (categorical values hashed to 8 hex digits). A test file has no label, so
// 39 fields instead of 40; the first line decides which layout the whole file has.
// Traps: an empty field is a missing value, and runs of empty fields give consecutive TABs that
// must not be collapsed; trailing empty fields end a line in TABs; integer counts can be
// negative (I2 has -1 and -2). Integers go to numeric columns with NaN for missing, and
// categorical values to raw keys (the 32-bit value of the hex digits, RECPRUNE_MISSING_KEY
// when empty).
#include "recprune/sdk.hpp"
#include "recprune/sdk/parallel_parse.hpp"
#include "recprune/sdk/text.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr size_t kIntegerCount = 13;
constexpr size_t kCategoricalCount = 26;

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path",
           "help": "Criteo TSV file, such as train.txt (40 fields with the label, 39 without)"},
  "threads": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1024,
              "help": "parser threads; 0 uses every core"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "fail on the first malformed line, or skip such lines and count them"}
}})json";

// Counts the TAB-separated fields of the file's first line (0 for an empty file).
size_t first_line_field_count(const std::string& path) {
    text::LineReader reader(path, "the Criteo file", 1u << 16);
    std::string_view line;
    if (!reader.next(line)) return 0;
    return static_cast<size_t>(std::count(line.begin(), line.end(), '\t')) + 1;
}

uint64_t categorical_key(std::string_view value) {
    if (value.empty()) return RECPRUNE_MISSING_KEY;
    uint64_t key = 0;
    if (value.size() == 8 && text::try_parse_hex(value, key)) return key;
    return text::hash_token(value);
}

class Criteo : public recprune::Dataset {
public:
    Criteo(const recprune::Host& host, const json& params)
        : host_(host),
          path_(params.value("path", std::string())),
          bad_lines_(params.value("on_bad_line", std::string("fail"))) {
        if (path_.empty()) {
            throw recprune::InvalidArgument(
                "invalid parameter: criteo.path: missing or empty; give the Criteo TSV file, "
                "such as train.txt");
        }
        path_ = std::filesystem::absolute(path_).lexically_normal().string();
        int64_t threads = params.value("threads", int64_t{0});
        if (threads < 0) {
            throw recprune::InvalidArgument(
                "invalid parameter: criteo.threads: " + std::to_string(threads) +
                " is negative; use 0 for "
                "every core");
        }
        options_.threads = static_cast<unsigned>(threads);
    }

    std::vector<std::string> sources() const override { return {path_}; }

    recprune::Table load() override {
        const size_t field_count = first_line_field_count(path_);
        const size_t expected_with_label = 1 + kIntegerCount + kCategoricalCount;
        if (field_count != expected_with_label && field_count != expected_with_label - 1) {
            text::fail_field_count({path_, 1}, expected_with_label, field_count, "\t");
        }
        const bool has_label = field_count == expected_with_label;

        recprune::Table table;
        if (has_label)
            table.columns.push_back(text::make_numeric("label", RECPRUNE_COLUMN_ROLE_LABEL));
        for (size_t index = 1; index <= kIntegerCount; ++index) {
            table.columns.push_back(
                text::make_numeric("I" + std::to_string(index), RECPRUNE_COLUMN_ROLE_FEATURE));
        }
        for (size_t index = 1; index <= kCategoricalCount; ++index) {
            table.columns.push_back(text::make_categorical("C" + std::to_string(index)));
        }
        std::vector<recprune::Column*> columns;
        for (auto& column : table.columns) columns.push_back(&column);

        // Column pointers stay fixed during the parse: table.columns is not resized.
        const size_t first_integer = has_label ? 1 : 0;
        const size_t first_categorical = first_integer + kIntegerCount;
        table.row_count = text::parse_lines_parallel(
            path_, "the Criteo file", columns, bad_lines_, options_,
            [&](std::string_view line, const text::Location& where, uint64_t row) {
                thread_local std::vector<std::string_view> fields;
                text::split_exact(line, "\t", field_count, where, fields);
                if (has_label) {
                    std::string_view label = fields[0];
                    if (label != "0" && label != "1") {
                        text::fail(
                            where, "label",
                            "expected a click label 0 or 1, found " + text::quote_value(label),
                            text::or_skip_bad_lines("fix the value"));
                    }
                    columns[0]->numeric[row] = label == "1" ? 1.0 : 0.0;
                }
                for (size_t index = 0; index < kIntegerCount; ++index) {
                    std::string_view value = fields[first_integer + index];
                    double number = std::numeric_limits<double>::quiet_NaN();
                    if (!value.empty()) {
                        int64_t integer = 0;
                        if (!text::try_parse_int(value, integer)) {
                            text::fail(
                                where, columns[first_integer + index]->name,
                                "expected an integer count, found " + text::quote_value(value),
                                text::or_skip_bad_lines("fix the value"));
                        }
                        number = static_cast<double>(integer);
                    }
                    columns[first_integer + index]->numeric[row] = number;
                }
                for (size_t index = 0; index < kCategoricalCount; ++index) {
                    columns[first_categorical + index]->keys[row] =
                        categorical_key(fields[first_categorical + index]);
                }
                return true;
            });

        json metadata = json::object();
        metadata["task_hint"] = "ctr";
        metadata["positive_threshold"] = 1;
        metadata["numeric_hint"] = "log_squared";
        metadata["has_label"] = has_label;
        bad_lines_.write_metadata(metadata);
        table.metadata = std::move(metadata);
        if (bad_lines_.skipped() > 0) {
            host_.warn("skipped " + std::to_string(bad_lines_.skipped()) +
                       " malformed lines; first: " + bad_lines_.examples().front());
        }
        return table;
    }

private:
    recprune::Host host_;
    std::string path_;
    text::BadLines bad_lines_;
    text::ParallelParseOptions options_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(Criteo, "criteo", "1.0.0",
                         "Criteo display-advertising TSV: click label, 13 counts, 26 hashed "
                         "categorical fields",
                         kSchema)
