// Lists of names for messages ("use one of a, b, c").
#pragma once

#include <string>
#include <string_view>

namespace recprune {

/// Returns the items of `items`, each turned into text by `text`, separated by `separator`.
template <typename Range, typename Text>
std::string join_mapped(const Range& items, Text&& text, std::string_view separator = ", ") {
    std::string out;
    bool first = true;
    for (const auto& item : items) {
        if (!first) out += separator;
        out += text(item);
        first = false;
    }
    return out;
}

/// Returns the strings of `items` separated by `separator`.
template <typename Range>
std::string join(const Range& items, std::string_view separator = ", ") {
    return join_mapped(
        items, [](const auto& item) { return std::string_view(item); }, separator);
}

}  // namespace recprune
