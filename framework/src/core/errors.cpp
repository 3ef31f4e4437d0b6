#include "core/errors.hpp"

#include <cerrno>

namespace recprune {

std::string write_failure_advice(int error_number) {
    switch (error_number) {
        case ENOSPC:
        case EFBIG:
        case EDQUOT:
            return "free disk space";
        case EPERM:
        case EACCES:
            // EPERM also comes from the immutable and append-only attributes (chattr +i, +a),
            // which ls -l does not show.
            return "restore write permission on the file and its folder (see ls -l, and lsattr "
                   "for the immutable flag)";
        case EROFS:
            return "remount the file system read-write or give another --output";
        default:
            return "check the file system of the output folder";
    }
}

}  // namespace recprune
