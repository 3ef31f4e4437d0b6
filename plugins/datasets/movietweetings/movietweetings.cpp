// MovieTweetings dataset plugin: movie ratings (0 to 10) parsed from tweets, in the MovieLens 1M
// "::" layout.
//
// Dooms, De Pessemier and Martens, "MovieTweetings: a Movie Rating Dataset Collected From
// Twitter", CrowdRec workshop at RecSys 2013.
//
// Files (no header, UTF-8):
//   ratings.dat  user_id::movie_id::rating::timestamp
//   movies.dat   movie_id::title (year)::genre|genre|...
// Traps: movie ids are 7-digit zero-padded IMDb numbers ("0120735"), so they are kept as
// strings. Ratings run from 0 to 10, so the default positive threshold is 8. Some movies have
// an empty genre list. Titles are UTF-8 and checked as such.
#include "recprune/sdk.hpp"
#include "recprune/sdk/text.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr double kDefaultPositiveThreshold = 8.0;

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path",
           "help": "folder holding ratings.dat and movies.dat"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "fail on the first malformed line, or skip such lines and count them"},
  "include_titles": {"type": "boolean", "default": false,
                     "help": "copy every movie title (UTF-8) into the metadata under \"titles\""}
}})json";

// Genre keys of each movie, stored flat: movie key -> [begin, end) in `genre_keys`.
struct MovieGenres {
    std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> ranges;
    std::vector<uint64_t> genre_keys;
};

class MovieTweetings : public recprune::Dataset {
public:
    MovieTweetings(const recprune::Host& host, const json& params)
        : host_(host),
          folder_(params.value("path", std::string())),
          bad_lines_(params.value("on_bad_line", std::string("fail"))),
          include_titles_(params.value("include_titles", false)) {
        if (folder_.empty()) {
            throw recprune::InvalidArgument(
                "invalid parameter: movietweetings.path: missing or empty; give the folder that "
                "holds "
                "ratings.dat and movies.dat, such as experiments/data/movietweetings");
        }
        folder_ = std::filesystem::absolute(folder_).lexically_normal().string();
    }

    std::vector<std::string> sources() const override {
        return {text::join_path(folder_, "ratings.dat"), text::join_path(folder_, "movies.dat")};
    }

    recprune::Table load() override {
        json metadata = json::object();
        MovieGenres genres = read_movies(text::join_path(folder_, "movies.dat"), metadata);
        recprune::Table table =
            read_ratings(text::join_path(folder_, "ratings.dat"), genres, metadata);
        metadata["task_hint"] = "ctr";
        metadata["positive_threshold"] = kDefaultPositiveThreshold;
        metadata["rating_scale"] = {0, 10};
        bad_lines_.write_metadata(metadata);
        table.metadata = std::move(metadata);
        if (bad_lines_.skipped() > 0) {
            host_.warn("skipped " + std::to_string(bad_lines_.skipped()) +
                       " malformed lines; first: " + bad_lines_.examples().front());
        }
        return table;
    }

private:
    MovieGenres read_movies(const std::string& path, json& metadata) {
        MovieGenres movies;
        std::unordered_map<std::string, uint64_t> genre_counts;
        json titles = json::object();
        uint64_t duplicates = 0;
        std::vector<std::string_view> genre_names;
        text::LineReader reader(path, "the movies file");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                // A title could itself contain "::", so the id ends at the first separator and
                // the genres start after the last.
                size_t first = line.find("::");
                size_t last = line.rfind("::");
                if (first == std::string_view::npos || first == last) {
                    size_t found = first == std::string_view::npos ? 1 : 2;
                    text::fail_field_count(where, 3, found, "::");
                }
                std::string_view movie_id = line.substr(0, first);
                std::string_view title = line.substr(first + 2, last - first - 2);
                std::string_view genre_text = line.substr(last + 2);
                check_movie_id(movie_id, where);
                text::require_utf8(title, where, "title");
                text::split(genre_text, "|", genre_names);
                if (genre_text.empty()) genre_names.clear();
                for (std::string_view genre : genre_names) {
                    if (genre.empty()) {
                        text::fail(where, "genres",
                                   "empty genre name in " + text::quote_value(genre_text),
                                   "separate genres with single '|' characters");
                    }
                    text::require_utf8(genre, where, "genres");
                }

                uint64_t key = text::hash_token(movie_id);
                auto [entry, inserted] = movies.ranges.try_emplace(key);
                if (!inserted) {
                    ++duplicates;  // the first line for a movie wins
                    continue;
                }
                entry->second.first = static_cast<uint32_t>(movies.genre_keys.size());
                for (std::string_view genre : genre_names) {
                    movies.genre_keys.push_back(text::hash_token(genre));
                    ++genre_counts[std::string(genre)];
                }
                entry->second.second = static_cast<uint32_t>(movies.genre_keys.size());
                if (include_titles_) titles[std::string(movie_id)] = std::string(title);
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        metadata["movie_count"] = movies.ranges.size();
        metadata["duplicate_movie_lines"] = duplicates;
        metadata["genres"] = genre_counts;
        if (include_titles_) metadata["titles"] = std::move(titles);
        return movies;
    }

    static void check_movie_id(std::string_view movie_id, const text::Location& where) {
        bool digits =
            !movie_id.empty() && movie_id.find_first_not_of("0123456789") == std::string_view::npos;
        if (!digits) {
            text::fail(where, "movie_id",
                       "expected a numeric IMDb id such as \"0120735\", found " +
                           text::quote_value(movie_id),
                       text::or_skip_bad_lines("fix the value"));
        }
    }

    recprune::Table read_ratings(const std::string& path, const MovieGenres& movies,
                                 json& metadata) {
        recprune::Table table;
        auto user = text::make_categorical(
            "user", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER);
        auto item = text::make_categorical(
            "item", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM);
        auto genres = text::make_multi_hot("genres");
        auto rating = text::make_numeric("rating", RECPRUNE_COLUMN_ROLE_LABEL);
        auto timestamp = text::make_numeric("timestamp", RECPRUNE_COLUMN_ROLE_TIMESTAMP);

        uint64_t without_movie = 0;
        std::vector<std::string_view> fields;
        text::LineReader reader(path, "the ratings file");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                text::split_exact(line, "::", 4, where, fields);
                uint64_t user_id = text::parse_uint(fields[0], where, "user_id");
                check_movie_id(fields[1], where);
                double value = text::parse_double(fields[2], where, "rating");
                if (value < 0.0 || value > 10.0) {
                    text::fail(
                        where, "rating",
                        "expected a rating in [0, 10], found " + text::quote_value(fields[2]),
                        text::or_skip_bad_lines("fix the value"));
                }
                int64_t time = text::parse_int(fields[3], where, "timestamp");

                uint64_t movie_key = text::hash_token(fields[1]);
                user.keys.push_back(user_id);
                item.keys.push_back(movie_key);
                rating.numeric.push_back(value);
                timestamp.numeric.push_back(static_cast<double>(time));
                auto found = movies.ranges.find(movie_key);
                if (found == movies.ranges.end()) {
                    ++without_movie;
                } else {
                    genres.keys.insert(genres.keys.end(),
                                       movies.genre_keys.begin() + found->second.first,
                                       movies.genre_keys.begin() + found->second.second);
                }
                genres.offsets.push_back(genres.keys.size());
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        metadata["ratings_without_movie"] = without_movie;

        table.row_count = user.keys.size();
        table.columns.push_back(std::move(user));
        table.columns.push_back(std::move(item));
        table.columns.push_back(std::move(genres));
        table.columns.push_back(std::move(rating));
        table.columns.push_back(std::move(timestamp));
        return table;
    }

    recprune::Host host_;
    std::string folder_;
    text::BadLines bad_lines_;
    bool include_titles_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(MovieTweetings, "movietweetings", "1.0.0",
                         "MovieTweetings ratings (0-10) with movie genres as a multi-hot field",
                         kSchema)
