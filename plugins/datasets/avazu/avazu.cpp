// Avazu click-through dataset plugin: the Kaggle 2014 mobile-ads CSV files.
//
// Columns: id, click, hour, C1, banner_pos, site_id, site_domain, site_category, app_id,
// app_domain, app_category, device_id, device_ip, device_model, device_type, device_conn_type,
// C14..C21. The training file starts with a header line and the Kaggle test file has no click
// column; both are detected from the first line.
// Traps: `id` is a 20-digit unsigned integer that does not fit int64 and is unique per row, so
// it is not a feature. `hour` is YYMMDDHH in UTC; it becomes the timestamp (seconds since
// 1970) and two features, hour_of_day and weekday, as in the usual preprocessing. C20 uses -1
// for unknown, which stays a value of its own.
#include "recprune/sdk.hpp"
#include "recprune/sdk/parallel_parse.hpp"
#include "recprune/sdk/text.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr std::array<std::string_view, 24> kColumns = {
    "id",         "click",        "hour",         "C1",
    "banner_pos", "site_id",      "site_domain",  "site_category",
    "app_id",     "app_domain",   "app_category", "device_id",
    "device_ip",  "device_model", "device_type",  "device_conn_type",
    "C14",        "C15",          "C16",          "C17",
    "C18",        "C19",          "C20",          "C21"};
constexpr size_t kFirstCategorical = 3;  // C1

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path",
           "help": "Avazu CSV file, such as train or train.csv (with or without the header line)"},
  "threads": {"type": "integer", "default": 0, "minimum": 0, "maximum": 1024,
              "help": "parser threads; 0 uses every core"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "fail on the first malformed line, or skip such lines and count them"}
}})json";

// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar.
int64_t days_since_epoch(int64_t year, int64_t month, int64_t day) {
    // Count from March, so the leap day is the last day of the counted year.
    year -= month <= 2 ? 1 : 0;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t year_of_era = year - era * 400;
    const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

class Avazu : public recprune::Dataset {
public:
    Avazu(const recprune::Host& host, const json& params)
        : host_(host),
          path_(params.value("path", std::string())),
          bad_lines_(params.value("on_bad_line", std::string("fail"))) {
        if (path_.empty()) {
            throw recprune::InvalidArgument(
                "invalid parameter: avazu.path: missing or empty; give "
                "the Avazu CSV file");
        }
        path_ = std::filesystem::absolute(path_).lexically_normal().string();
        int64_t threads = params.value("threads", int64_t{0});
        if (threads < 0) {
            throw recprune::InvalidArgument(
                "invalid parameter: avazu.threads: " + std::to_string(threads) +
                " is negative; use 0 for every core");
        }
        options_.threads = static_cast<unsigned>(threads);
    }

    std::vector<std::string> sources() const override { return {path_}; }

    recprune::Table load() override {
        detect_layout();

        recprune::Table table;
        if (has_click_)
            table.columns.push_back(text::make_numeric("click", RECPRUNE_COLUMN_ROLE_LABEL));
        table.columns.push_back(text::make_numeric("timestamp", RECPRUNE_COLUMN_ROLE_TIMESTAMP));
        table.columns.push_back(text::make_categorical("hour_of_day"));
        table.columns.push_back(text::make_categorical("weekday"));
        for (size_t index = kFirstCategorical; index < kColumns.size(); ++index) {
            table.columns.push_back(text::make_categorical(std::string(kColumns[index])));
        }
        std::vector<recprune::Column*> columns;
        for (auto& column : table.columns) columns.push_back(&column);

        // Field positions in a line: without the click column every field after id moves left.
        const size_t shift = has_click_ ? 0 : 1;
        const size_t field_count = kColumns.size() - shift;
        const size_t first_output = has_click_ ? 1 : 0;
        table.row_count = text::parse_lines_parallel(
            path_, "the Avazu file", columns, bad_lines_, options_,
            [&](std::string_view line, const text::Location& where, uint64_t row) {
                if (has_header_ && where.line == 1) return false;
                thread_local std::vector<std::string_view> fields;
                text::split_exact(line, ",", field_count, where, fields);
                if (has_click_) {
                    std::string_view click = fields[1];
                    if (click != "0" && click != "1") {
                        text::fail(
                            where, "click",
                            "expected a click label 0 or 1, found " + text::quote_value(click),
                            text::or_skip_bad_lines("fix the value"));
                    }
                    columns[0]->numeric[row] = click == "1" ? 1.0 : 0.0;
                }
                int64_t hour = parse_hour(fields[2 - shift], where);
                const int64_t days = hour / 24;
                columns[first_output]->numeric[row] = static_cast<double>(hour * 3600);
                columns[first_output + 1]->keys[row] = static_cast<uint64_t>(hour % 24);
                // 1970-01-01 was a Thursday; 0 = Monday.
                columns[first_output + 2]->keys[row] = static_cast<uint64_t>((days + 3) % 7);
                for (size_t index = kFirstCategorical; index < kColumns.size(); ++index) {
                    columns[first_output + 3 + index - kFirstCategorical]->keys[row] =
                        text::key_or_missing(fields[index - shift]);
                }
                return true;
            });

        json metadata = json::object();
        metadata["task_hint"] = "ctr";
        metadata["positive_threshold"] = 1;
        metadata["has_header"] = has_header_;
        metadata["has_click"] = has_click_;
        bad_lines_.write_metadata(metadata);
        table.metadata = std::move(metadata);
        if (bad_lines_.skipped() > 0) {
            host_.warn("skipped " + std::to_string(bad_lines_.skipped()) +
                       " malformed lines; first: " + bad_lines_.examples().front());
        }
        return table;
    }

private:
    // Reads the first line: a header starts with "id"; 24 fields carry the click, 23 do not.
    void detect_layout() {
        text::LineReader reader(path_, "the Avazu file", 1u << 16);
        std::string_view line;
        if (!reader.next(line)) {
            has_header_ = false;
            has_click_ = true;
            return;
        }
        std::vector<std::string_view> fields;
        text::split(line, ",", fields);
        if (fields.size() != kColumns.size() && fields.size() != kColumns.size() - 1) {
            text::fail_field_count(reader.location(), kColumns.size(), fields.size(), ",");
        }
        has_click_ = fields.size() == kColumns.size();
        has_header_ = fields[0] == "id";
        if (!has_header_) return;
        for (size_t index = 0; index < fields.size(); ++index) {
            std::string_view expected = kColumns[index + (has_click_ || index == 0 ? 0 : 1)];
            if (fields[index] != expected) {
                text::fail(reader.location(), expected,
                           "header names " + text::quote_value(fields[index]) + " where " +
                               text::quote_value(expected) + " belongs",
                           "check that this is an Avazu file with the original columns");
            }
        }
    }

    // Hours since 1970-01-01 00:00 UTC from YYMMDDHH (years 2000 to 2099).
    static int64_t parse_hour(std::string_view text_value, const text::Location& where) {
        uint64_t packed = 0;
        if (text_value.size() != 8 || !text::try_parse_uint(text_value, packed)) {
            text::fail(where, "hour", "expected YYMMDDHH, found " + text::quote_value(text_value),
                       text::or_skip_bad_lines("fix the value"));
        }
        const auto year = static_cast<int64_t>(packed / 1000000);
        const auto month = static_cast<int64_t>(packed / 10000 % 100);
        const auto day = static_cast<int64_t>(packed / 100 % 100);
        const auto hour = static_cast<int64_t>(packed % 100);
        if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23) {
            text::fail(where, "hour", "expected YYMMDDHH, found " + text::quote_value(text_value),
                       text::or_skip_bad_lines("fix the value"));
        }
        return days_since_epoch(2000 + year, month, day) * 24 + hour;
    }

    recprune::Host host_;
    std::string path_;
    text::BadLines bad_lines_;
    text::ParallelParseOptions options_;
    bool has_header_ = false;
    bool has_click_ = true;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(Avazu, "avazu", "1.0.0",
                         "Avazu mobile-ads CSV: click label, hour as time and 22 categorical "
                         "fields",
                         kSchema)
