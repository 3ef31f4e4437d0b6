// MovieLens dataset plugin: the 100K and 1M rating sets with user and movie side features.
//
// Harper and Konstan, "The MovieLens Datasets: History and Context", ACM TiiS 5(4), 2015.
//
// 100K (no header, LF):
//   u.data  user_id TAB item_id TAB rating TAB timestamp
//   u.user  user_id|age|gender|occupation|zip_code
//   u.item  movie_id|title|release_date|video_release_date|IMDb_URL|19 genre flags (0/1)
// 1M ("::" separated, no header):
//   ratings.dat  UserID::MovieID::Rating::Timestamp
//   users.dat    UserID::Gender::Age::Occupation::Zip-code   (age already bucketed)
//   movies.dat   MovieID::Title::Genre|Genre|...
// Traps: u.item and movies.dat are Latin-1, not UTF-8, so titles are converted. Zip codes are
// strings (Canadian codes such as "T8H1N"). 100K ages are raw years, so they are bucketed like
// the 1M age codes (1, 18, 25, 35, 45, 50, 56) and both variants share one age vocabulary.
#include "recprune/sdk.hpp"
#include "recprune/sdk/text.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using recprune::json;
namespace text = recprune::text;

constexpr double kDefaultPositiveThreshold = 4.0;

// Genre order of the 19 u.item flags, as listed in u.genre.
constexpr std::array<std::string_view, 19> kGenres100k = {
    "unknown",     "Action", "Adventure", "Animation", "Children's", "Comedy",  "Crime",
    "Documentary", "Drama",  "Fantasy",   "Film-Noir", "Horror",     "Musical", "Mystery",
    "Romance",     "Sci-Fi", "Thriller",  "War",       "Western"};

// Age bucket codes of MovieLens 1M, lower bound of each range.
constexpr std::array<int64_t, 7> kAgeBuckets = {1, 18, 25, 35, 45, 50, 56};

constexpr const char* kSchema = R"json({"parameters": {
  "path": {"type": "string", "format": "path",
           "help": "MovieLens folder: u.data, u.user, u.item (100K) or ratings.dat, users.dat, movies.dat (1M)"},
  "variant": {"type": "string", "default": "auto", "enum": ["auto", "100k", "1m"],
              "help": "file layout; auto picks 100k when u.data exists, else 1m"},
  "zip_prefix_length": {"type": "integer", "default": 3, "minimum": 0, "maximum": 10,
                        "help": "leading characters of the zip code kept as the zip_prefix field (0 drops the field)"},
  "on_bad_line": {"type": "string", "default": "fail", "enum": ["fail", "skip"],
                  "help": "fail on the first malformed line, or skip such lines and count them"},
  "include_titles": {"type": "boolean", "default": false,
                     "help": "copy every movie title (converted to UTF-8) into the metadata under \"titles\""}
}})json";

struct UserFeatures {
    uint64_t age = RECPRUNE_MISSING_KEY;
    uint64_t gender = RECPRUNE_MISSING_KEY;
    uint64_t occupation = RECPRUNE_MISSING_KEY;
    uint64_t zip_prefix = RECPRUNE_MISSING_KEY;
};

struct MovieGenres {
    std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> ranges;
    std::vector<uint64_t> genre_keys;
};

uint64_t age_bucket(int64_t years) {
    uint64_t bucket = static_cast<uint64_t>(kAgeBuckets.front());
    for (int64_t lower : kAgeBuckets) {
        if (years >= lower) bucket = static_cast<uint64_t>(lower);
    }
    return bucket;
}

class MovieLens : public recprune::Dataset {
public:
    MovieLens(const recprune::Host& host, const json& params)
        : host_(host),
          folder_(params.value("path", std::string())),
          variant_(params.value("variant", std::string("auto"))),
          zip_prefix_length_(params.value("zip_prefix_length", 3)),
          bad_lines_(params.value("on_bad_line", std::string("fail"))),
          include_titles_(params.value("include_titles", false)) {
        if (folder_.empty()) {
            throw recprune::InvalidArgument(
                "invalid parameter: movielens.path: missing or empty; give the MovieLens folder, "
                "such as "
                "the unpacked ml-100k or ml-1m");
        }
        folder_ = std::filesystem::absolute(folder_).lexically_normal().string();
        if (variant_ != "auto" && variant_ != "100k" && variant_ != "1m") {
            throw recprune::InvalidArgument(
                "invalid parameter: movielens.variant: " + text::quote_value(variant_) +
                " is not one of auto, 100k, 1m; use one of them");
        }
        if (zip_prefix_length_ < 0) {
            throw recprune::InvalidArgument("invalid parameter: movielens.zip_prefix_length: " +
                                            std::to_string(zip_prefix_length_) +
                                            " is negative; use 0 to drop the field");
        }
    }

    std::vector<std::string> sources() const override {
        if (resolved_variant() == "100k") {
            return {file("u.data"), file("u.user"), file("u.item")};
        }
        return {file("ratings.dat"), file("users.dat"), file("movies.dat")};
    }

    recprune::Table load() override {
        const std::string variant = resolved_variant();
        const bool is_100k = variant == "100k";
        json metadata = json::object();
        json titles = json::object();
        auto users = is_100k ? read_users_100k(file("u.user")) : read_users_1m(file("users.dat"));
        MovieGenres movies = is_100k ? read_items_100k(file("u.item"), titles)
                                     : read_movies_1m(file("movies.dat"), titles);
        metadata["variant"] = variant;
        metadata["user_count"] = users.size();
        metadata["movie_count"] = movies.ranges.size();
        recprune::Table table = read_ratings(is_100k ? file("u.data") : file("ratings.dat"),
                                             is_100k ? "\t" : "::", users, movies, metadata);
        metadata["task_hint"] = "ctr";
        metadata["positive_threshold"] = kDefaultPositiveThreshold;
        metadata["rating_scale"] = {1, 5};
        if (include_titles_) metadata["titles"] = std::move(titles);
        bad_lines_.write_metadata(metadata);
        table.metadata = std::move(metadata);
        if (bad_lines_.skipped() > 0) {
            host_.warn("skipped " + std::to_string(bad_lines_.skipped()) +
                       " malformed lines; first: " + bad_lines_.examples().front());
        }
        return table;
    }

private:
    std::string file(std::string_view name) const { return text::join_path(folder_, name); }

    // Detection only looks at which files exist; it never reads them.
    std::string resolved_variant() const {
        if (variant_ != "auto") return variant_;
        if (text::is_readable_file(file("u.data"))) return "100k";
        if (text::is_readable_file(file("ratings.dat"))) return "1m";
        if (!text::is_directory(folder_)) {
            text::fail_missing_file(folder_, "the MovieLens folder");
        }
        throw recprune::Error(RECPRUNE_STATUS_DATA_ERROR,
                              "missing data file: " + folder_ +
                                  ": neither u.data (100K) nor ratings.dat (1M) is there; point "
                                  "path at an unpacked MovieLens folder");
    }

    uint64_t zip_key(std::string_view zip) const {
        if (zip_prefix_length_ == 0 || zip.empty()) return RECPRUNE_MISSING_KEY;
        return text::hash_token(zip.substr(0, static_cast<size_t>(zip_prefix_length_)));
    }

    std::unordered_map<uint64_t, UserFeatures> read_users_100k(const std::string& path) {
        std::unordered_map<uint64_t, UserFeatures> users;
        std::vector<std::string_view> fields;
        text::LineReader reader(path, "the users file u.user");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                text::split_exact(line, "|", 5, where, fields);
                uint64_t user_id = text::parse_uint(fields[0], where, "user_id");
                int64_t age = text::parse_int(fields[1], where, "age");
                check_gender(fields[2], where);
                UserFeatures features;
                features.age = age_bucket(age);
                features.gender = text::hash_token(fields[2]);
                features.occupation = text::key_or_missing(fields[3]);
                features.zip_prefix = zip_key(fields[4]);
                users[user_id] = features;
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        return users;
    }

    std::unordered_map<uint64_t, UserFeatures> read_users_1m(const std::string& path) {
        std::unordered_map<uint64_t, UserFeatures> users;
        std::vector<std::string_view> fields;
        text::LineReader reader(path, "the users file users.dat");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                text::split_exact(line, "::", 5, where, fields);
                uint64_t user_id = text::parse_uint(fields[0], where, "user_id");
                check_gender(fields[1], where);
                int64_t age = text::parse_int(fields[2], where, "age");
                bool known_bucket = false;
                for (int64_t lower : kAgeBuckets) known_bucket |= age == lower;
                if (!known_bucket) {
                    text::fail(where, "age",
                               "expected an age code of 1, 18, 25, 35, 45, 50 or 56, found " +
                                   text::quote_value(fields[2]),
                               text::or_skip_bad_lines("fix the value"));
                }
                text::parse_uint(fields[3], where, "occupation");
                UserFeatures features;
                features.age = static_cast<uint64_t>(age);
                features.gender = text::hash_token(fields[1]);
                features.occupation = text::hash_token(fields[3]);
                features.zip_prefix = zip_key(fields[4]);
                users[user_id] = features;
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        return users;
    }

    static void check_gender(std::string_view gender, const text::Location& where) {
        if (gender != "M" && gender != "F") {
            text::fail(where, "gender",
                       "expected \"M\" or \"F\", found " + text::quote_value(gender),
                       text::or_skip_bad_lines("fix the value"));
        }
    }

    MovieGenres read_items_100k(const std::string& path, json& titles) {
        MovieGenres movies;
        std::vector<std::string_view> fields;
        text::LineReader reader(path, "the items file u.item");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                text::split_exact(line, "|", 5 + kGenres100k.size(), where, fields);
                uint64_t movie_id = text::parse_uint(fields[0], where, "movie_id");
                std::array<bool, kGenres100k.size()> flags{};
                for (size_t genre = 0; genre < kGenres100k.size(); ++genre) {
                    std::string_view flag = fields[5 + genre];
                    if (flag != "0" && flag != "1") {
                        text::fail(where, kGenres100k[genre],
                                   "expected a genre flag 0 or 1, found " + text::quote_value(flag),
                                   text::or_skip_bad_lines("fix the value"));
                    }
                    flags[genre] = flag == "1";
                }
                auto [entry, inserted] = movies.ranges.try_emplace(movie_id);
                if (!inserted) continue;  // the first line for a movie wins
                entry->second.first = static_cast<uint32_t>(movies.genre_keys.size());
                for (size_t genre = 0; genre < kGenres100k.size(); ++genre) {
                    if (flags[genre])
                        movies.genre_keys.push_back(text::hash_token(kGenres100k[genre]));
                }
                entry->second.second = static_cast<uint32_t>(movies.genre_keys.size());
                if (include_titles_) {
                    titles[std::to_string(movie_id)] = text::latin1_to_utf8(fields[1]);
                }
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        return movies;
    }

    MovieGenres read_movies_1m(const std::string& path, json& titles) {
        MovieGenres movies;
        std::vector<std::string_view> genre_names;
        text::LineReader reader(path, "the movies file movies.dat");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                // A title may contain "::", so the id ends at the first separator and the
                // genres start after the last.
                size_t first = line.find("::");
                size_t last = line.rfind("::");
                if (first == std::string_view::npos || first == last) {
                    text::fail_field_count(where, 3, first == std::string_view::npos ? 1 : 2, "::");
                }
                uint64_t movie_id = text::parse_uint(line.substr(0, first), where, "movie_id");
                std::string_view title = line.substr(first + 2, last - first - 2);
                std::string_view genre_text = line.substr(last + 2);
                text::split(genre_text, "|", genre_names);
                if (genre_text.empty()) genre_names.clear();
                auto [entry, inserted] = movies.ranges.try_emplace(movie_id);
                if (!inserted) continue;
                entry->second.first = static_cast<uint32_t>(movies.genre_keys.size());
                for (std::string_view genre : genre_names) {
                    if (!genre.empty()) movies.genre_keys.push_back(text::hash_token(genre));
                }
                entry->second.second = static_cast<uint32_t>(movies.genre_keys.size());
                if (include_titles_) {
                    titles[std::to_string(movie_id)] = text::latin1_to_utf8(title);
                }
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        return movies;
    }

    recprune::Table read_ratings(const std::string& path, std::string_view separator,
                                 const std::unordered_map<uint64_t, UserFeatures>& users,
                                 const MovieGenres& movies, json& metadata) {
        auto user = text::make_categorical(
            "user", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER);
        auto item = text::make_categorical(
            "item", RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM);
        auto age = text::make_categorical("age");
        auto gender = text::make_categorical("gender");
        auto occupation = text::make_categorical("occupation");
        auto zip_prefix = text::make_categorical("zip_prefix");
        auto genres = text::make_multi_hot("genres");
        auto rating = text::make_numeric("rating", RECPRUNE_COLUMN_ROLE_LABEL);
        auto timestamp = text::make_numeric("timestamp", RECPRUNE_COLUMN_ROLE_TIMESTAMP);

        uint64_t without_user = 0, without_movie = 0;
        const UserFeatures unknown_user;
        std::vector<std::string_view> fields;
        text::LineReader reader(path, "the ratings file");
        std::string_view line;
        while (reader.next(line)) {
            const text::Location where = reader.location();
            try {
                text::split_exact(line, separator, 4, where, fields);
                uint64_t user_id = text::parse_uint(fields[0], where, "user_id");
                uint64_t movie_id = text::parse_uint(fields[1], where, "item_id");
                double value = text::parse_double(fields[2], where, "rating");
                int64_t time = text::parse_int(fields[3], where, "timestamp");

                auto found_user = users.find(user_id);
                const UserFeatures& features =
                    found_user == users.end() ? unknown_user : found_user->second;
                without_user += found_user == users.end();
                user.keys.push_back(user_id);
                item.keys.push_back(movie_id);
                age.keys.push_back(features.age);
                gender.keys.push_back(features.gender);
                occupation.keys.push_back(features.occupation);
                zip_prefix.keys.push_back(features.zip_prefix);
                auto found_movie = movies.ranges.find(movie_id);
                if (found_movie == movies.ranges.end()) {
                    ++without_movie;
                } else {
                    genres.keys.insert(genres.keys.end(),
                                       movies.genre_keys.begin() + found_movie->second.first,
                                       movies.genre_keys.begin() + found_movie->second.second);
                }
                genres.offsets.push_back(genres.keys.size());
                rating.numeric.push_back(value);
                timestamp.numeric.push_back(static_cast<double>(time));
            } catch (const text::ParseError& error) {
                bad_lines_.record(error);
            }
        }
        metadata["ratings_without_user"] = without_user;
        metadata["ratings_without_movie"] = without_movie;

        recprune::Table table;
        table.row_count = user.keys.size();
        table.columns.push_back(std::move(user));
        table.columns.push_back(std::move(item));
        table.columns.push_back(std::move(age));
        table.columns.push_back(std::move(gender));
        table.columns.push_back(std::move(occupation));
        if (zip_prefix_length_ > 0) table.columns.push_back(std::move(zip_prefix));
        table.columns.push_back(std::move(genres));
        table.columns.push_back(std::move(rating));
        table.columns.push_back(std::move(timestamp));
        return table;
    }

    recprune::Host host_;
    std::string folder_;
    std::string variant_;
    int zip_prefix_length_;
    text::BadLines bad_lines_;
    bool include_titles_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(MovieLens, "movielens", "1.0.0",
                         "MovieLens 100K or 1M ratings with user (age, gender, occupation, zip) "
                         "and genre side features",
                         kSchema)
