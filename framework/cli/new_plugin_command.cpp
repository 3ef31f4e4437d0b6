#include "new_plugin_command.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "plugin/plugin_registry.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace recprune::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr size_t kMaxNameLength = 64;

const char* const kUsage =
    "usage: recprune new-plugin KIND NAME [options]\n"
    "\n"
    "Writes a folder NAME/ holding a plugin of KIND (pruner, dataset or model) that builds out\n"
    "of tree against the installed recprune: a documented skeleton that works as written, its\n"
    "CMakeLists.txt, a doctest test, a grid that uses it and a README with the next steps.\n";

/// Paths the command reads or prints: templates, shipped data and the CMake package prefix.
struct Installation {
    fs::path templates;  ///< contains pruner/, dataset/, model/
    fs::path data;       ///< contains movietweetings/
    fs::path docs;       ///< contains abi.md
    fs::path prefix;     ///< CMAKE_PREFIX_PATH for find_package(recprune)
};

fs::path executable_dir() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

/// Prefers the installed share/recprune next to the executable, else the source tree the
/// executable was built from (a build tree exports its package under lib/cmake/recprune).
Installation find_installation() {
    const fs::path prefix = executable_dir().parent_path();
    const fs::path share = prefix / "share" / "recprune";
    if (fs::is_directory(share / "templates")) {
        return {share / "templates", share / "experiments" / "data",
                prefix / "share" / "doc" / "recprune", prefix};
    }
    const fs::path source = RECPRUNE_SOURCE_DIR;
    if (fs::is_directory(source / "framework" / "cli" / "templates")) {
        return {source / "framework" / "cli" / "templates", source / "experiments" / "data",
                source / "docs", prefix};
    }
    throw ConfigError("cannot write the plugin: no templates in " +
                      (share / "templates").string() + " or " +
                      (source / "framework" / "cli" / "templates").string() +
                      "; reinstall recprune with cmake --install");
}

void check_name(const std::string& name) {
    bool valid = !name.empty() && name.size() <= kMaxNameLength && name[0] >= 'a' &&
                 name[0] <= 'z';
    for (char c : name) {
        valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (!valid) {
        throw ConfigError("invalid plugin name: \"" + name +
                          "\": use lower-case letters, digits and '_', starting with a letter, "
                          "at most 64 characters, such as my_pruner");
    }
}

/// Throws ConfigError when a plugin on the default search path already has `name`: names are
/// unique across kinds, and a --plugin-dir copy of that name would silently replace it.
void check_name_free(const std::string& name) {
    plugin::PluginRegistry registry;
    registry.discover(plugin::PluginRegistry::search_path({}), false);
    for (const auto& plugin : registry.plugins()) {
        if (plugin->name() != name) continue;
        throw ConfigError("invalid plugin name: \"" + name + "\" is taken by the " +
                          plugin::kind_name(plugin->kind()) + " plugin " +
                          plugin->path().string() +
                          "; pick another name, such as my_" + name);
    }
}

/// Returns "MyPruner" for "my_pruner".
std::string class_name(const std::string& name) {
    std::string out;
    bool upper = true;
    for (char c : name) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        upper = false;
    }
    return out;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    while (at != std::string::npos) {
        text.replace(at, from.size(), to);
        at = text.find(from, at + to.size());
    }
    return text;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Returns a number from a fixed 64-bit sequence (splitmix64), so the sample data is the same
/// on every machine, which std::normal_distribution does not promise.
uint64_t next_random(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double uniform(uint64_t& state) { return static_cast<double>(next_random(state) >> 11) * 0x1p-53; }

/// Writes user,item,tags,label lines whose click probability follows a hidden logistic model:
/// user and item biases, a two-factor user-item affinity and one weight per tag.
void write_sample_data(const fs::path& path) {
    constexpr int kUsers = 200;
    constexpr int kItems = 100;
    constexpr int kTags = 12;
    constexpr int kRows = 6000;
    uint64_t state = 20240501;
    auto draw = [&state] { return 2.0 * uniform(state) - 1.0; };
    std::vector<double> user_bias(kUsers), item_bias(kItems), tag_weight(kTags);
    std::vector<std::array<double, 2>> user_factor(kUsers), item_factor(kItems);
    std::vector<std::vector<int>> item_tags(kItems);
    for (int u = 0; u < kUsers; ++u) {
        user_factor[u] = {draw(), draw()};
        user_bias[u] = draw();
    }
    for (int i = 0; i < kItems; ++i) {
        item_factor[i] = {draw(), draw()};
        item_bias[i] = draw();
        int tag_count = static_cast<int>(uniform(state) * 4.0);
        for (int t = 0; t < tag_count; ++t) {
            item_tags[i].push_back(static_cast<int>(uniform(state) * kTags));
        }
    }
    for (int t = 0; t < kTags; ++t) tag_weight[t] = draw();

    std::ostringstream out;
    out << "user,item,tags,label\n";
    for (int row = 0; row < kRows; ++row) {
        int u = static_cast<int>(uniform(state) * kUsers);
        int i = static_cast<int>(uniform(state) * kItems);
        double logit = -0.5 + 1.5 * user_bias[u] + 1.5 * item_bias[i] +
                       2.0 * (user_factor[u][0] * item_factor[i][0] +
                              user_factor[u][1] * item_factor[i][1]);
        std::string tags;
        for (int t : item_tags[i]) {
            logit += tag_weight[t];
            tags += (tags.empty() ? "" : "|") + std::string("t") + std::to_string(t);
        }
        int label = uniform(state) < 1.0 / (1.0 + std::exp(-logit)) ? 1 : 0;
        out << "u" << u << ",i" << i << "," << tags << "," << label << "\n";
    }
    fs::create_directories(path.parent_path());
    json_io::write_file_atomic(path, out.str());
}

}  // namespace

int command_new_plugin(const std::vector<std::string>& args) {
    std::string kind;
    std::string name;
    std::string output;
    bool force = false;
    po::options_description described("options");
    described.add_options()("help,h", "print this help")(
        "output,o", po::value<std::string>(&output), "folder to write (default: ./NAME)")(
        "force", po::bool_switch(&force), "write into a folder that is not empty");
    po::options_description hidden;
    hidden.add_options()("kind", po::value<std::string>(&kind))(
        "name", po::value<std::string>(&name));
    po::options_description all;
    all.add(described).add(hidden);
    po::positional_options_description positional;
    positional.add("kind", 1).add("name", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << kUsage << "\n" << described;
        return kExitOk;
    }
    if (name.empty()) {
        std::cerr << "invalid command line: give KIND and NAME, such as new-plugin pruner "
                     "my_pruner\n\n"
                  << kUsage << "\n" << described;
        return kExitUsage;
    }

    // Check everything before writing anything.
    if (kind != "pruner" && kind != "dataset" && kind != "model") {
        throw ConfigError("invalid plugin kind: \"" + kind +
                          "\": not one of pruner, dataset, model; give one of them");
    }
    check_name(name);
    check_name_free(name);
    const Installation installation = find_installation();
    const fs::path folder = output.empty() ? fs::path(name) : fs::path(output);
    if (fs::exists(folder) && !(fs::is_directory(folder) && fs::is_empty(folder)) && !force) {
        throw ConfigError("cannot write the plugin: " + folder.string() +
                          ": exists and is not an empty folder; choose another with --output or "
                          "pass --force to write into it");
    }

    // Copy the templates, filling in the names and paths.
    const fs::path source = installation.templates / kind;
    const std::string prefix = fs::absolute(installation.prefix).lexically_normal().string();
    const std::vector<std::pair<std::string, std::string>> replacements = {
        {"@NAME@", name},
        {"@CLASS@", class_name(name)},
        {"@DATA_DIR@", fs::absolute(installation.data).lexically_normal().string()},
        {"@DOC_DIR@", fs::absolute(installation.docs).lexically_normal().string()},
        {"@PREFIX@", prefix}};
    std::vector<fs::path> written;
    for (const auto& entry : fs::recursive_directory_iterator(source)) {
        if (!entry.is_regular_file()) continue;
        fs::path relative = replace_all(fs::relative(entry.path(), source).string(), "__name__",
                                        name);
        std::string text = read_text(entry.path());
        for (const auto& [from, to] : replacements) text = replace_all(text, from, to);
        fs::create_directories((folder / relative).parent_path());
        json_io::write_file_atomic(folder / relative, text);
        written.push_back(relative);
    }
    if (kind == "dataset") {
        write_sample_data(folder / "data" / "sample.csv");
        written.emplace_back("data/sample.csv");
    }
    std::sort(written.begin(), written.end());

    std::cout << "wrote " << kind << " plugin \"" << name << "\" to " << folder.string() << "/:\n";
    for (const auto& path : written) std::cout << "  " << path.string() << "\n";
    std::cout << "\nnext:\n"
              << "  cd " << folder.string() << "\n"
              << "  cmake -S . -B build -DCMAKE_PREFIX_PATH=" << prefix << "\n"
              << "  cmake --build build && ctest --test-dir build\n"
              << "  recprune run grid.json --plugin-dir build\n"
              << "  recprune report results\n";
    return kExitOk;
}

}  // namespace recprune::cli
