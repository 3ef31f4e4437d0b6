// The filter that tells a clean rejection by the host from a finding. Kept apart from
// support.hpp because the host's error types and the SDK's (recprune/sdk.hpp) share names, so
// one file cannot include both.
#pragma once

#include "harness/support.hpp"

#include "core/errors.hpp"

namespace recprune::fuzz {

/// Runs `body`. Returns normally when it returns or throws ConfigError, DataError or
/// PluginError with a non-empty message; anything else propagates as a finding.
template <typename Body>
void accept_or_reject(Body&& body) {
    try {
        body();
    } catch (const ConfigError& e) {
        check_rejection_message(e.what());
    } catch (const DataError& e) {
        check_rejection_message(e.what());
    } catch (const PluginError& e) {
        check_rejection_message(e.what());
    }
}

}  // namespace recprune::fuzz
