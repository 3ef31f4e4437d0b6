// The advice that ends a failed-write message must match the cause: disk space only when the
// disk or a size limit is full, permissions when a permission check failed.
#include "../data/temp_dir.hpp"
#include "child_process.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

using recprune::write_failure_advice;

namespace {

// Runs write_file_atomic into `folder` in a child process and returns the child's exit code and
// the exception's message. Root passes every permission check, so a child of root first drops
// to the user and group nobody (65534); exit code 2 means it could not.
std::pair<int, std::string> write_in_child(const std::filesystem::path& folder) {
    return recprune::test::run_in_child([&]() -> std::pair<int, std::string> {
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return {2, ""};
        try {
            recprune::json_io::write_file_atomic(folder / "results.json", "{}\n");
        } catch (const recprune::OutputError& e) {
            return {0, e.what()};
        }
        return {1, "the write did not fail"};
    });
}

}  // namespace

TEST_CASE("write advice: disk space only for a full disk or size limit") {
    for (int error : {ENOSPC, EFBIG, EDQUOT}) {
        CAPTURE(error);
        CHECK(write_failure_advice(error) == "free disk space");
    }
}

TEST_CASE("write advice: permissions for EPERM and EACCES") {
    for (int error : {EPERM, EACCES}) {
        CAPTURE(error);
        CHECK(write_failure_advice(error) ==
              "restore write permission on the file and its folder (see ls -l, and lsattr for "
              "the immutable flag)");
    }
}

TEST_CASE("write advice: read-only file system and other causes") {
    CHECK(write_failure_advice(EROFS) ==
          "remount the file system read-write or give another --output");
    CHECK(write_failure_advice(EIO) == "check the file system of the output folder");
}

TEST_CASE("write advice: a folder without write permission names permissions") {
    recprune::test::TempDir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0500) == 0);

    auto [code, message] = write_in_child(dir.path());
    ::chmod(dir.path().c_str(), 0700);

    if (code == 2) {
        MESSAGE("skipped: running as root without the right to switch to user nobody");
        return;
    }
    CHECK(code == 0);
    const std::string temporary = (dir.path() / "results.json").string() + ".tmp.";
    CHECK(message.rfind("cannot write " + temporary, 0) == 0);
    CHECK(message.find(": Permission denied; restore write permission on the file and its "
                       "folder (see ls -l, and lsattr for the immutable flag) and rerun") !=
          std::string::npos);
    CHECK(message.find("free disk space") == std::string::npos);
}
