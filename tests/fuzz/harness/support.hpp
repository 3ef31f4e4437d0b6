// Pieces the fuzz target entry functions share: the scratch folder, the plugin folders, the
// message check of a clean rejection, and the input splitting. The rejection filter for host
// code is in host_errors.hpp.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace recprune::plugin {
class PluginRegistry;
}

namespace recprune::fuzz {

/// Sets up logging once (off unless RECPRUNE_LOG is set, because the warnings of thousands of
/// bad inputs per second would drown the fuzzer's own output).
void init_once();

/// A folder for this process's temporary files, on /dev/shm when it is writable so that the
/// fsync of the result store costs nothing. Removed at exit.
const std::filesystem::path& scratch_dir();

/// Empties `folder` (created when absent) and returns it.
std::filesystem::path fresh_folder(const std::filesystem::path& folder);

/// Writes `bytes` exactly to `path`.
void write_bytes(const std::filesystem::path& path, std::string_view bytes);

/// Folder of the built in-tree plugins.
std::filesystem::path plugin_dir();

/// The descriptor fixture plugin library.
std::filesystem::path descriptor_plugin_path();

/// A registry of every plugin in plugin_dir(), loaded once.
const plugin::PluginRegistry& full_registry();

/// Checks the message of a clean rejection: not empty.
void check_rejection_message(const char* message);

/// Splits `input` at NUL bytes into at most `max_parts` parts; the last part keeps any
/// further NUL bytes.
std::vector<std::string_view> split_at_nul(std::string_view input, size_t max_parts);

}  // namespace recprune::fuzz

