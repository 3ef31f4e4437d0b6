// Finding the user and item fields of a schema, for models that read only those two.
#pragma once

#include "recprune/nn/config.hpp"
#include "recprune/sdk.hpp"

#include <cstdint>
#include <string>

namespace recprune::nn {

/// The batch fields holding the user and the item id.
struct UserItemFields {
    uint32_t user = 0;
    uint32_t item = 0;
};

/// Returns the first fields with the roles "user" and "item"; throws InvalidArgument naming
/// `model` when either is missing.
inline UserItemFields find_user_item(const DataSchema& schema, const std::string& model) {
    const auto user = schema.find_role(true);
    const auto item = schema.find_role(false);
    if (!user || !item) {
        throw InvalidArgument("invalid schema for " + model + ": no field has the role " +
                              std::string(user ? "item" : "user") + "; " + model +
                              " needs the user and item columns of a dataset that marks them");
    }
    return {*user, *item};
}

}  // namespace recprune::nn
