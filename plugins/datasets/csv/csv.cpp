// Generic CSV/TSV dataset plugin: the grid describes the columns, so any one-row-per-line
// table can be read without writing a plugin.
//
// Parameters name the file, the separator (any string: ",", "\t", "::"), whether the first line
// is a header, optional RFC 4180 quoting, and one entry per column:
//   {"name": "genres", "type": "multi_hot", "separator": "|", "roles": ["feature"]}
// Types: "categorical" (one token per row, hashed to a raw key), "multi_hot" (tokens split by
// the column's separator), "numeric" (a number, empty = missing) and "skip". Roles: "feature",
// "label", "user", "item", "timestamp"; a column without roles is a feature.
// With a header, entries are matched to header names and other columns are ignored; without
// one, the entries describe every field in order. Lines end in LF or CRLF; a missing final
// newline is fine; fields are never trimmed, and empty categorical fields are the missing key.
#include "recprune/sdk.hpp"
#include "recprune/sdk/text.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path", "help": "the CSV or TSV file"},
  "separator": {"type": "string", "default": ",",
                "help": "field separator, any string such as \",\", \"\\t\" or \"::\""},
  "header": {"type": "boolean", "default": true,
             "help": "the first line names the columns and is not data"},
  "quote": {"type": "string", "default": "",
            "help": "quote character for RFC 4180 quoting within a line, such as \"\\\"\"; empty turns quoting off"},
  "encoding": {"type": "string", "default": "utf-8", "enum": ["utf-8", "latin-1"],
               "help": "utf-8 checks every token; latin-1 accepts any byte"},
  "columns": {"type": "array", "default": [], "items": {"type": "object"},
              "help": "one {\"name\", \"type\", \"roles\", \"separator\"} per column: type is categorical, multi_hot, numeric or skip; roles are feature, label, user, item, timestamp"},
  "positive_threshold": {"type": "number", "default": null,
                         "help": "labels at or above this count as positives, unless the grid sets its own"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "fail on the first malformed line, or skip such lines and count them"}
}})json";

enum class ColumnKind { Categorical, MultiHot, Numeric, Skip };

struct ColumnSpec {
    std::string name;
    ColumnKind kind = ColumnKind::Categorical;
    uint32_t roles = RECPRUNE_COLUMN_ROLE_FEATURE;
    std::string value_separator;  // multi_hot only
    size_t field_index = 0;       // position in the line
    size_t output = 0;            // index into the table's columns
};

[[noreturn]] void invalid(const std::string& where, const std::string& why,
                          const std::string& fix) {
    throw recprune::InvalidArgument("invalid parameter: csv." + where + ": " + why + "; " + fix);
}

uint32_t parse_role(const json& value, const std::string& where) {
    if (!value.is_string()) invalid(where, value.dump() + " is not a string", "give a role name");
    const std::string role = value.get<std::string>();
    if (role == "feature") return RECPRUNE_COLUMN_ROLE_FEATURE;
    if (role == "label") return RECPRUNE_COLUMN_ROLE_LABEL;
    if (role == "user") return RECPRUNE_COLUMN_ROLE_USER;
    if (role == "item") return RECPRUNE_COLUMN_ROLE_ITEM;
    if (role == "timestamp") return RECPRUNE_COLUMN_ROLE_TIMESTAMP;
    invalid(where, "\"" + role + "\" is not one of feature, label, user, item, timestamp",
            "use one of them");
}

ColumnSpec parse_spec(const json& entry, size_t position) {
    const std::string where = "columns[" + std::to_string(position) + "]";
    if (!entry.is_object())
        invalid(where, entry.dump() + " is not an object", "write {\"name\": ..., \"type\": ...}");

    ColumnSpec spec;
    spec.field_index = position;
    if (!entry.contains("name") || !entry["name"].is_string() ||
        entry["name"].get<std::string>().empty()) {
        invalid(where + ".name", "missing or not a non-empty string", "name every column");
    }
    spec.name = entry["name"].get<std::string>();

    const std::string type = entry.value("type", std::string("categorical"));
    if (type == "categorical") {
        spec.kind = ColumnKind::Categorical;
    } else if (type == "multi_hot") {
        spec.kind = ColumnKind::MultiHot;
        spec.value_separator = entry.value("separator", std::string("|"));
        if (spec.value_separator.empty()) {
            invalid(where + ".separator", "empty",
                    "give the separator between values, such as \"|\"");
        }
    } else if (type == "numeric") {
        spec.kind = ColumnKind::Numeric;
    } else if (type == "skip") {
        spec.kind = ColumnKind::Skip;
    } else {
        invalid(where + ".type",
                "\"" + type + "\" is not one of categorical, multi_hot, numeric, skip",
                "use one of them");
    }

    if (entry.contains("roles")) {
        const json& roles = entry["roles"];
        spec.roles = 0;
        if (roles.is_string()) {
            spec.roles = parse_role(roles, where + ".roles");
        } else if (roles.is_array()) {
            for (size_t index = 0; index < roles.size(); ++index) {
                spec.roles |=
                    parse_role(roles[index], where + ".roles[" + std::to_string(index) + "]");
            }
        } else {
            invalid(where + ".roles", roles.dump() + " is not a role or a list of roles",
                    "write [\"feature\", \"user\"]");
        }
    }

    const bool numeric_role =
        (spec.roles & (RECPRUNE_COLUMN_ROLE_LABEL | RECPRUNE_COLUMN_ROLE_TIMESTAMP)) != 0;
    const bool entity_role =
        (spec.roles & (RECPRUNE_COLUMN_ROLE_USER | RECPRUNE_COLUMN_ROLE_ITEM)) != 0;
    if (numeric_role && spec.kind != ColumnKind::Numeric) {
        invalid(where + ".type", "a label or timestamp column must be numeric",
                "set \"type\": \"numeric\"");
    }
    if (entity_role && spec.kind != ColumnKind::Categorical) {
        invalid(where + ".type", "a user or item column must be categorical",
                "set \"type\": \"categorical\"");
    }
    return spec;
}

class Csv : public recprune::Dataset {
public:
    Csv(const recprune::Host& host, const json& params)
        : host_(host),
          path_(params.value("path", std::string())),
          separator_(params.value("separator", std::string(","))),
          quote_(params.value("quote", std::string())),
          header_(params.value("header", true)),
          check_utf8_(params.value("encoding", std::string("utf-8")) == "utf-8"),
          bad_lines_(params.value("on_bad_line", std::string("fail"))) {
        if (path_.empty()) invalid("path", "missing or empty", "give the CSV or TSV file");
        path_ = std::filesystem::absolute(path_).lexically_normal().string();
        if (separator_.empty()) invalid("separator", "empty", "give a separator such as \",\"");
        if (quote_.size() > 1)
            invalid("quote", "\"" + quote_ + "\" is longer than one character",
                    "give one character or \"\"");
        if (!quote_.empty() && separator_.size() != 1) {
            invalid("quote", "quoting needs a one-character separator, not \"" + separator_ + "\"",
                    "turn quoting off or use a one-character separator");
        }
        const json columns = params.value("columns", json::array());
        if (!columns.is_array() || columns.empty()) {
            invalid("columns", "missing or empty",
                    "describe the file's columns, such as [{\"name\": \"user\", \"roles\": "
                    "[\"user\"]}]");
        }
        for (size_t position = 0; position < columns.size(); ++position) {
            specs_.push_back(parse_spec(columns[position], position));
            for (size_t earlier = 0; earlier + 1 < specs_.size(); ++earlier) {
                if (specs_[earlier].name == specs_.back().name) {
                    invalid("columns[" + std::to_string(position) + "].name",
                            "\"" + specs_.back().name + "\" appears twice",
                            "give each column its own name");
                }
            }
        }
        if (params.contains("positive_threshold") && params["positive_threshold"].is_number()) {
            positive_threshold_ = params["positive_threshold"].get<double>();
        }
    }

    std::vector<std::string> sources() const override { return {path_}; }

    recprune::Table load() override {
        text::LineReader reader(path_, "the CSV file");
        std::string_view line;
        std::vector<std::string_view> fields;
        std::string storage;
        size_t field_count = specs_.size();
        if (header_) {
            if (!reader.next(line)) {
                text::fail({path_, 1}, {}, "the file is empty but a header line was expected",
                           "add the header line or set header to false");
            }
            split(line, reader.location(), fields, storage);
            match_header(fields);
            field_count = fields.size();
        }

        recprune::Table table;
        for (ColumnSpec& spec : specs_) {
            if (spec.kind == ColumnKind::Skip) continue;
            spec.output = table.columns.size();
            if (spec.kind == ColumnKind::Numeric) {
                table.columns.push_back(text::make_numeric(spec.name, spec.roles));
            } else if (spec.kind == ColumnKind::MultiHot) {
                table.columns.push_back(text::make_multi_hot(spec.name, spec.roles));
            } else {
                table.columns.push_back(text::make_categorical(spec.name, spec.roles));
            }
        }

        std::vector<double> numbers(specs_.size());
        std::vector<uint64_t> keys(specs_.size());
        std::vector<std::vector<uint64_t>> multi_keys(specs_.size());
        std::vector<std::string_view> values;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                split(line, where, fields, storage);
                if (fields.size() != field_count) {
                    text::fail_field_count(where, field_count, fields.size(), separator_);
                }
                // Parse the whole line before appending, so a bad line leaves no trace.
                for (size_t index = 0; index < specs_.size(); ++index) {
                    const ColumnSpec& spec = specs_[index];
                    std::string_view field = fields[spec.field_index];
                    switch (spec.kind) {
                        case ColumnKind::Numeric:
                            numbers[index] = parse_number(spec, field, where);
                            break;
                        case ColumnKind::Categorical:
                            if (check_utf8_) text::require_utf8(field, where, spec.name);
                            keys[index] = text::key_or_missing(field);
                            break;
                        case ColumnKind::MultiHot:
                            multi_keys[index].clear();
                            if (field.empty()) break;
                            text::split(field, spec.value_separator, values);
                            for (std::string_view value : values) {
                                if (value.empty())
                                    continue;  // "a||b" and a trailing "|" add nothing
                                if (check_utf8_) text::require_utf8(value, where, spec.name);
                                multi_keys[index].push_back(text::hash_token(value));
                            }
                            break;
                        case ColumnKind::Skip:
                            break;
                    }
                }
                for (size_t index = 0; index < specs_.size(); ++index) {
                    const ColumnSpec& spec = specs_[index];
                    if (spec.kind == ColumnKind::Skip) continue;
                    recprune::Column& column = table.columns[spec.output];
                    if (spec.kind == ColumnKind::Numeric) {
                        column.numeric.push_back(numbers[index]);
                    } else if (spec.kind == ColumnKind::Categorical) {
                        column.keys.push_back(keys[index]);
                    } else {
                        column.keys.insert(column.keys.end(), multi_keys[index].begin(),
                                           multi_keys[index].end());
                        column.offsets.push_back(column.keys.size());
                    }
                }
                ++table.row_count;
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }

        json metadata = json::object();
        if (positive_threshold_) metadata["positive_threshold"] = *positive_threshold_;
        metadata["header"] = header_;
        bad_lines_.write_metadata(metadata);
        table.metadata = std::move(metadata);
        if (bad_lines_.skipped() > 0) {
            host_.warn("skipped " + std::to_string(bad_lines_.skipped()) +
                       " malformed lines; first: " + bad_lines_.examples().front());
        }
        return table;
    }

private:
    void split(std::string_view line, const text::Location& where,
               std::vector<std::string_view>& fields, std::string& storage) const {
        if (quote_.empty()) {
            text::split(line, separator_, fields);
        } else {
            text::split_quoted(line, separator_[0], quote_[0], where, fields, storage);
        }
    }

    void match_header(const std::vector<std::string_view>& header) {
        for (ColumnSpec& spec : specs_) {
            bool found = false;
            for (size_t index = 0; index < header.size(); ++index) {
                if (header[index] == spec.name) {
                    spec.field_index = index;
                    found = true;
                    break;
                }
            }
            if (found) continue;
            std::string names;
            for (std::string_view name : header) {
                if (!names.empty()) names += ", ";
                names.append(name);
            }
            text::fail({path_, 1}, spec.name, "not in the header line, which has: " + names,
                       "fix the column name in the grid, or set header to false");
        }
    }

    static double parse_number(const ColumnSpec& spec, std::string_view field,
                               const text::Location& where) {
        const bool required =
            (spec.roles & (RECPRUNE_COLUMN_ROLE_LABEL | RECPRUNE_COLUMN_ROLE_TIMESTAMP)) != 0;
        if (field.empty() && required) {
            text::fail(where, spec.name, "expected a number, found an empty field",
                       "every row needs its label and timestamp");
        }
        return text::parse_double_or_missing(field, where, spec.name);
    }

    recprune::Host host_;
    std::string path_;
    std::string separator_;
    std::string quote_;
    bool header_;
    bool check_utf8_;
    text::BadLines bad_lines_;
    std::vector<ColumnSpec> specs_;
    std::optional<double> positive_threshold_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(Csv, "csv", "1.0.0",
                         "any CSV or TSV file, with the columns described in the grid", kSchema)
