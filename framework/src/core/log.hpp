// Logging for the host: spdlog underneath, one line per message on stderr in the shape
// "recprune <seconds> <level> <component>: <message>".
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace recprune::log {

enum class Level { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 5 };

/// Configures the logger. `spec` has the RECPRUNE_LOG form "<level>[:<component>,...]"; an
/// empty spec keeps `default_level`. A level given on the command line wins over the variable.
void configure(Level default_level, const std::string& spec);

/// Parses "trace".."error"/"off"; throws ConfigError on anything else.
Level parse_level(std::string_view text);

/// True when a message of `level` from `component` would be written; check before formatting.
bool enabled(Level level, std::string_view component);

/// Writes one line. `component` is one of loader, grid, sched, train, prune, results,
/// plugin:<name>.
void write(Level level, std::string_view component, std::string_view message);

}  // namespace recprune::log

// The macros check the level before building the message.
#define RECPRUNE_LOG(level, component, ...)                                                    \
    do {                                                                                       \
        if (::recprune::log::enabled(level, component)) {                                      \
            ::recprune::log::write(level, component, ::fmt::format(__VA_ARGS__));              \
        }                                                                                      \
    } while (0)
#define RECPRUNE_INFO(component, ...) RECPRUNE_LOG(::recprune::log::Level::Info, component, __VA_ARGS__)
#define RECPRUNE_WARN(component, ...) RECPRUNE_LOG(::recprune::log::Level::Warn, component, __VA_ARGS__)
#define RECPRUNE_DEBUG(component, ...) RECPRUNE_LOG(::recprune::log::Level::Debug, component, __VA_ARGS__)
#define RECPRUNE_ERROR(component, ...) RECPRUNE_LOG(::recprune::log::Level::Error, component, __VA_ARGS__)
#define RECPRUNE_TRACE(component, ...) RECPRUNE_LOG(::recprune::log::Level::Trace, component, __VA_ARGS__)
