// Exception types of the host, one per cause. Each message already names the place (JSON path,
// file:line, plugin path, cell parameters) and the fix, in the shape
// "<what failed>: <where>: <why, with the values>; <what to do>".
#pragma once

#include <stdexcept>
#include <string>

namespace recprune {

/// A grid or command-line setting is wrong; reported before any cell runs.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Input data is missing or malformed.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A plugin could not be loaded or broke its contract.
class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Results could not be written (a full disk, a lost permission). Rows written before stay
/// readable.
class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A cell failed at run time (a plugin call failed, the loss became NaN).
class CellError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Returns the "what to do" part of the message of a failed file write, chosen by its errno.
/// Disk space is named only for ENOSPC, EFBIG and EDQUOT, write permission for EPERM and EACCES,
/// and another file system for EROFS. Other errors get "check the file system of the output
/// folder". The text is a verb phrase without a final period, such as "free disk space".
std::string write_failure_advice(int error_number);

}  // namespace recprune
