#include "core/log.hpp"

#include "core/errors.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <sstream>

namespace recprune::log {
namespace {

struct State {
    std::atomic<int> level{static_cast<int>(Level::Warn)};
    // Components raised to `component_level`; empty means the level applies to all.
    std::set<std::string, std::less<>> components;
    std::atomic<int> component_level{static_cast<int>(Level::Off)};
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    // spdlog writes and serialises the lines; the prefix is formatted here because the
    // elapsed-seconds field has no spdlog pattern flag.
    std::shared_ptr<spdlog::logger> logger = make_logger();

    static std::shared_ptr<spdlog::logger> make_logger() {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        auto logger = std::make_shared<spdlog::logger>("recprune", sink);
        logger->set_pattern("%v");
        logger->set_level(spdlog::level::trace);
        logger->flush_on(spdlog::level::trace);
        return logger;
    }
};

State& state() {
    static State instance;
    return instance;
}

const char* level_name(Level level) {
    switch (level) {
        case Level::Trace: return "trace";
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Warn: return "warn";
        case Level::Error: return "error";
        case Level::Off: return "off";
    }
    return "?";
}

}  // namespace

Level parse_level(std::string_view text) {
    for (Level level : {Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error,
                        Level::Off}) {
        if (text == level_name(level)) return level;
    }
    throw ConfigError("invalid log level: \"" + std::string(text) +
                      "\"; use one of trace, debug, info, warn, error, off");
}

void configure(Level default_level, const std::string& spec) {
    State& s = state();
    s.components.clear();
    s.component_level = static_cast<int>(Level::Off);
    s.level = static_cast<int>(default_level);
    if (spec.empty()) return;

    // "<level>" sets the level for all; "<level>:a,b" raises only the named components and
    // leaves the rest at the default.
    auto colon = spec.find(':');
    Level level = parse_level(spec.substr(0, colon));
    if (colon == std::string::npos) {
        s.level = static_cast<int>(level);
        return;
    }
    std::stringstream list(spec.substr(colon + 1));
    std::string component;
    while (std::getline(list, component, ',')) {
        if (!component.empty()) s.components.insert(component);
    }
    s.component_level = static_cast<int>(level);
}

bool enabled(Level level, std::string_view component) {
    const State& s = state();
    if (static_cast<int>(level) >= s.level.load(std::memory_order_relaxed)) return true;
    if (s.components.empty()) return false;
    if (static_cast<int>(level) < s.component_level.load(std::memory_order_relaxed)) return false;
    // "plugin" in the list matches every "plugin:<name>".
    if (s.components.count(component) != 0) return true;
    auto colon = component.find(':');
    return colon != std::string_view::npos && s.components.count(component.substr(0, colon)) != 0;
}

void write(Level level, std::string_view component, std::string_view message) {
    State& s = state();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - s.start).count();
    s.logger->log(spdlog::level::info, "recprune {:.3f} {} {}: {}", seconds, level_name(level),
                  component, message);
}

}  // namespace recprune::log
