// The @NAME@ dataset.
//
// Written by `recprune new-plugin dataset @NAME@`. As written it reads a comma-separated file
// with a header line and the columns
//     user,item,tags,label
// where tags is a '|'-separated list (possibly empty) and label is 0 or 1; data/sample.csv is
// such a file. Change the column list in load() to read your format.
//
// What the host does around a dataset, which the recprune docs describe in detail in
// @DOC_DIR@/abi.md:
// - it creates the dataset with the grid's parameters (paths relative to the grid file already
//   made absolute) and calls sources() to fingerprint the files for its binary cache;
// - load() runs once per grid, only when the cache has no valid copy, and returns raw columns:
//   categorical keys as parsed or hashed, multi-hot lists, numbers;
// - the host splits the rows, builds vocabularies on the training part, derives the labels
//   for the task and batches the rows, so a dataset only has to read its format faithfully.
#include "recprune/sdk.hpp"
#include "recprune/sdk/text.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path", "default": "",
    "help": "the CSV file to read; a relative path is relative to the grid file"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
    "help": "fail on the first malformed line, or skip such lines and count them"}
}})json";

constexpr const char* kHeader = "user,item,tags,label";

/// Reads user,item,tags,label lines into a user and an item field, a multi-hot tags field and
/// a 0/1 label.
class @CLASS@Dataset : public recprune::Dataset {
public:
    @CLASS@Dataset(const recprune::Host& host, const json& params)
        : host_(host),
          path_(params.value("path", std::string())),
          bad_lines_(params.value("on_bad_line", std::string("fail"))) {
        if (path_.empty()) {
            throw recprune::InvalidArgument(
                "invalid parameter: @NAME@.path: empty; give the CSV file to read, such as "
                "data/sample.csv");
        }
    }

    std::vector<std::string> sources() const override { return {path_}; }

    recprune::Table load() override {
        auto user = text::make_categorical(
            "user", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER);
        auto item = text::make_categorical(
            "item", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM);
        auto tags = text::make_multi_hot("tags");
        auto label = text::make_numeric("label", RECPRUNE_COLUMN_ROLE_LABEL);

        text::LineReader reader(path_, "the @NAME@ file");
        std::string_view line;
        if (!reader.next(line) || line != kHeader) {
            text::fail(reader.location(), {}, "expected the header line \"" +
                           std::string(kHeader) + "\", found " + text::quote_value(line),
                       "write the header as the first line");
        }
        std::vector<std::string_view> fields;
        std::vector<std::string_view> tag_names;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                // Parse the whole line first, so a skipped line leaves nothing behind.
                text::split_exact(line, ",", 4, where, fields);
                if (fields[0].empty() || fields[1].empty()) {
                    text::fail(where, fields[0].empty() ? "user" : "item", "empty id",
                               "give every line a user and an item");
                }
                double value = text::parse_double(fields[3], where, "label");
                if (value != 0.0 && value != 1.0) {
                    text::fail(where, "label", "expected 0 or 1, found " +
                                                   text::quote_value(fields[3]),
                               text::or_skip_bad_lines("fix the value"));
                }
                text::split(fields[2], "|", tag_names);
                if (fields[2].empty()) tag_names.clear();

                user.keys.push_back(text::hash_token(fields[0]));
                item.keys.push_back(text::hash_token(fields[1]));
                for (std::string_view tag : tag_names) tags.keys.push_back(text::hash_token(tag));
                tags.offsets.push_back(tags.keys.size());
                label.numeric.push_back(value);
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }

        recprune::Table table;
        table.row_count = user.keys.size();
        table.columns.push_back(std::move(user));
        table.columns.push_back(std::move(item));
        table.columns.push_back(std::move(tags));
        table.columns.push_back(std::move(label));
        table.metadata["task_hint"] = "ctr";
        bad_lines_.write_metadata(table.metadata);
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
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(@CLASS@Dataset, "@NAME@", "0.1.0",
                         "@NAME@: user,item,tags,label lines from a CSV file (scaffold)", kSchema)
