// Reading and writing JSON for the host (Boost.JSON): grids with comments and trailing commas,
// errors with line and column, numbers written so they read back exactly, atomic file writes.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace recprune::json_io {

/// Parses `text` allowing comments and trailing commas. Doubles read back exactly as
/// serialize() wrote them, and a key repeated in one object is an error. On an error throws
/// ConfigError "invalid JSON: <source>:<line>:<column>: <reason>; <fix>".
boost::json::value parse(std::string_view text, const std::string& source);

/// parse() without the exception: the value, or nullopt with "<line>:<column>: <reason>; <fix>"
/// in `problem` when it is not NULL.
std::optional<boost::json::value> try_parse(std::string_view text, std::string* problem = nullptr);

/// Reads and parses a file like parse(); a missing file is a ConfigError naming the path.
boost::json::value parse_file(const std::filesystem::path& path);

/// Serialises compactly on one line. Doubles use the shortest text that reads back to the same
/// bits; NaN and infinities, which JSON cannot hold, are written as null, so callers record
/// the reason next to them. Integers keep all 64 bits.
std::string serialize(const boost::json::value& value);

/// Serialises with two-space indentation, same number rules as serialize().
std::string serialize_pretty(const boost::json::value& value);

/// Writes `content` to a temporary file beside `path`, flushes it to disk and renames it over
/// `path`, so a reader sees either the old or the new file, never a part.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

/// Appends a JSON path element: "$" + "axes" -> "$.axes", "$.a" + 3 -> "$.a[3]".
std::string child_path(const std::string& parent, std::string_view key);
std::string child_path(const std::string& parent, size_t index);

/// Returns the value as a double when it is any JSON number, else throws std::invalid_argument.
double as_double(const boost::json::value& value);

}  // namespace recprune::json_io
