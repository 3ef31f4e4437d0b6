#include "run/environment.hpp"

#include "core/log.hpp"
#include "core/json_io.hpp"

#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/tbb/version.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <pmmintrin.h>
#include <unistd.h>
#include <xmmintrin.h>

namespace recprune::run {
namespace {

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(colon + 2);
        }
    }
    return "unknown";
}

std::string isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
        default: return "other";
    }
}

// The commit of the source tree the binary was built from, read at run time so that it is
// right even when the build folder is older than the last commit.
std::string git_commit() {
    std::string command = std::string("git -C '") + RECPRUNE_SOURCE_DIR +
                          "' rev-parse HEAD 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return "unknown";
    std::array<char, 64> buffer{};
    std::string out;
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
        out += buffer.data();
    }
    ::pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out.empty() ? "unknown" : out;
}

}  // namespace

void enable_flush_to_zero() {
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

boost::json::object describe_environment(const plugin::PluginRegistry& registry, int threads,
                                         int cell_threads) {
    const dnnl_version_t* dnnl = dnnl_version();
    char hostname[256] = {};
    ::gethostname(hostname, sizeof(hostname) - 1);

    boost::json::array plugins;
    for (const auto& plugin : registry.plugins()) {
        plugins.push_back(boost::json::object{{"name", plugin->name()},
                                              {"kind", plugin::kind_name(plugin->kind())},
                                              {"version", plugin->version()},
                                              {"file", plugin->path().string()}});
    }
    return boost::json::object{
        {"recprune_version", RECPRUNE_VERSION},
        {"git_commit", git_commit()},
        {"abi", std::to_string(RECPRUNE_ABI_MAJOR) + "." + std::to_string(RECPRUNE_ABI_MINOR)},
        {"build_type", RECPRUNE_BUILD_TYPE},
        {"compiler", std::string("g++ ") + __VERSION__},
        {"onednn_version", std::to_string(dnnl->major) + "." + std::to_string(dnnl->minor) +
                               "." + std::to_string(dnnl->patch)},
        {"onednn_isa", isa_name(dnnl::get_effective_cpu_isa())},
        {"onetbb_version", TBB_runtime_version()},
        {"cpu", cpu_model()},
        {"hardware_threads", std::thread::hardware_concurrency()},
        {"hostname", hostname},
        {"threads", threads},
        {"cell_threads", cell_threads},
        {"flush_to_zero", _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON},
        {"plugins", plugins}};
}

void log_run_header(const boost::json::object& env, const std::set<std::string>& used) {
    auto text = [&](const char* key) { return json_io::serialize(env.at(key)); };
    RECPRUNE_INFO("results", "recprune {} (commit {}), ABI {}, {} build, {}",
                  text("recprune_version"), text("git_commit"), text("abi"), text("build_type"),
                  text("compiler"));
    RECPRUNE_INFO("results", "oneDNN {} on ISA {}, oneTBB {}, CPU {}", text("onednn_version"),
                  text("onednn_isa"), text("onetbb_version"), text("cpu"));
    RECPRUNE_INFO("results", "{} cells at once, {} oneDNN thread(s) per cell",
                  text("threads"), text("cell_threads"));
    // The environment record lists every plugin found. The log names only the ones this run
    // uses, so the header stays short however many plugins are installed.
    size_t others = 0;
    for (const auto& plugin : env.at("plugins").as_array()) {
        const auto& p = plugin.as_object();
        const std::string key = std::string(p.at("kind").as_string()) + "/" +
                                std::string(p.at("name").as_string());
        if (used.count(key) == 0) {
            ++others;
            RECPRUNE_DEBUG("loader", "{} {} {} from {} (not used by this grid)",
                           json_io::serialize(p.at("kind")), json_io::serialize(p.at("name")),
                           json_io::serialize(p.at("version")), json_io::serialize(p.at("file")));
            continue;
        }
        RECPRUNE_INFO("loader", "{} {} {} from {}", json_io::serialize(p.at("kind")),
                      json_io::serialize(p.at("name")), json_io::serialize(p.at("version")),
                      json_io::serialize(p.at("file")));
    }
    if (others > 0) {
        RECPRUNE_INFO("loader", "{} other plugin(s) found and not used; -v lists them", others);
    }
}

}  // namespace recprune::run
