// Fuzz harness: one entry function per fuzz target, shared by the libFuzzer executables in
// tests/fuzz/targets/ and by the doctest replay of the seed corpora and regression inputs.
//
// Each function runs one input through the real parser or check. It returns normally when the
// input is accepted, or rejected with one of the typed errors the code documents for bad input
// (ConfigError, DataError, PluginError, or the SDK's recprune::Error) carrying a message. Any
// other outcome is a finding: a sanitizer report, a crash, another exception type (libFuzzer
// reports it as a crash through std::terminate), or a broken invariant, which throws
// InvariantBroken.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace recprune::fuzz {

/// A property the harness checks after a successful parse did not hold.
class InvariantBroken : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// Throws InvariantBroken with `what` unless `condition` holds.
void require(bool condition, const std::string& what);

/// Grid text through grid::load_grid_text with a registry of every built plugin.
void run_grid(std::string_view input);

/// The SDK text toolkit (recprune/sdk/text.hpp): lines, chunks, fields, numbers, encodings.
void run_text(std::string_view input);

/// A results.jsonl and a results.json through results::read_rows, the report built from the
/// rows, and a ResultStore reopened on the folder (the path that repairs torn lines).
void run_results(std::string_view input);

/// A plugin descriptor built from the input by the fixture plugin, through
/// plugin::PluginLibrary::load and, when it loads, plugin::resolve_parameters.
void run_descriptor(std::string_view input);

/// A dataset entry and data files through the dataset plugin `plugin_name` as the runner loads
/// it: parameter check, create, list_sources, load, the table cache and data::prepare. The
/// input is the entry's JSON, then each data file, separated by NUL bytes.
void run_dataset(std::string_view plugin_name, std::string_view input);

/// A named fuzz target: the folder name under corpus/ and regressions/, and its entry.
struct Target {
    std::string name;
    std::function<void(std::string_view)> run;
};

/// Every fuzz target, in a fixed order.
const std::vector<Target>& all_targets();

}  // namespace recprune::fuzz
