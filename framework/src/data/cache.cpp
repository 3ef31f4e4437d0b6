#include "data/cache.hpp"

#include "core/errors.hpp"
#include "core/log.hpp"
#include "data/content_hash.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace recprune::data {
namespace {

constexpr char kMagic[8] = {'R', 'P', 'R', 'C', 'A', 'C', 'H', 'E'};
constexpr char kEndMagic[8] = {'R', 'P', 'R', 'C', 'E', 'N', 'D', '.'};
// Bump when the layout or the meaning of keys changes (text::hash_token is part of it).
constexpr uint32_t kFormatVersion = 2;
// A cache file names at most this many columns and strings this long; larger values mean a
// damaged file, not a real table.
constexpr uint64_t kMaxColumns = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 30;

// Writes through a buffer and hashes everything written, for the trailing checksum.
class CacheWriter {
public:
    explicit CacheWriter(const std::filesystem::path& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) fail("cannot create it");
    }
    ~CacheWriter() {
        if (fd_ >= 0) ::close(fd_);
    }

    void write(const void* data, size_t size) {
        hasher_.update(data, size);
        raw_write(data, size);
        written_ += size;
    }
    void write_u64(uint64_t value) { write(&value, sizeof(value)); }
    void write_u32(uint32_t value) { write(&value, sizeof(value)); }
    void write_string(const std::string& text) {
        write_u64(text.size());
        write(text.data(), text.size());
    }
    template <typename Array>
    void write_array(const Array& values) {
        write(values.data(), values.size() * sizeof(values[0]));
    }
    /// Writes zero bytes up to the next multiple of 8, so the arrays after it are aligned.
    void pad_to_8() {
        static constexpr char kZeros[8] = {};
        if (written_ % 8 != 0) write(kZeros, 8 - written_ % 8);
    }

    void finish() {
        uint64_t checksum = hasher_.digest64();
        raw_write(&checksum, sizeof(checksum));
        raw_write(kEndMagic, sizeof(kEndMagic));
        if (::fsync(fd_) != 0) fail("cannot flush it");
        if (::close(fd_) != 0) {
            fd_ = -1;
            fail("cannot close it");
        }
        fd_ = -1;
    }

private:
    void raw_write(const void* data, size_t size) {
        const auto* bytes = static_cast<const char*>(data);
        while (size > 0) {
            ssize_t count = ::write(fd_, bytes, std::min<size_t>(size, 1u << 30));
            if (count < 0 && errno == EINTR) continue;
            if (count < 0) fail("cannot write it");
            bytes += count;
            size -= static_cast<size_t>(count);
        }
    }
    [[noreturn]] void fail(const char* what) {
        throw DataError("cache write failed: " + path_.string() + ": " + what + ": " +
                        std::strerror(errno) +
                        "; check free space and permissions of the "
                        "cache folder");
    }

    std::filesystem::path path_;
    int fd_ = -1;
    uint64_t written_ = 0;
    ContentHasher hasher_;
};

// A cache file mapped read-only; tables read from it borrow their arrays from the mapping.
class MappedCache {
public:
    explicit MappedCache(const std::filesystem::path& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat info {};
        if (::fstat(fd, &info) == 0 && info.st_size > 0) {
            size_ = static_cast<size_t>(info.st_size);
            // MAP_POPULATE maps every page up front: one pass instead of a fault per page.
            void* address = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
            if (address != MAP_FAILED) data_ = static_cast<const unsigned char*>(address);
        }
        ::close(fd);
    }
    MappedCache(const MappedCache&) = delete;
    MappedCache& operator=(const MappedCache&) = delete;
    ~MappedCache() {
        if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
    }

    const unsigned char* data() const { return data_; }
    size_t size() const { return data_ == nullptr ? 0 : size_; }

private:
    const unsigned char* data_ = nullptr;
    size_t size_ = 0;
};

// Reads a mapped cache with bounds checks; every failure is a reason to re-parse.
class CacheCursor {
public:
    CacheCursor(const unsigned char* data, size_t size) : data_(data), size_(size) {}

    bool read(void* out, size_t size) {
        if (size > size_ - position_) return false;
        std::memcpy(out, data_ + position_, size);
        position_ += size;
        return true;
    }
    bool read_u64(uint64_t& value) { return read(&value, sizeof(value)); }
    bool read_u32(uint32_t& value) { return read(&value, sizeof(value)); }
    bool read_string(std::string& text) {
        uint64_t size = 0;
        if (!read_u64(size) || size > kMaxStringBytes || size > size_ - position_) return false;
        text.assign(reinterpret_cast<const char*>(data_ + position_), size);
        position_ += size;
        return true;
    }
    bool skip_to_8() {
        size_t aligned = (position_ + 7) / 8 * 8;
        if (aligned > size_) return false;
        position_ = aligned;
        return true;
    }
    /// Points `values` at `count` elements in the mapping, kept alive by `owner`.
    template <typename T>
    bool borrow(ColumnArray<T>& values, uint64_t count, const std::shared_ptr<const void>& owner) {
        if (count > (size_ - position_) / sizeof(T)) return false;
        if (count > 0) {
            values =
                ColumnArray<T>::borrow(reinterpret_cast<const T*>(data_ + position_), count, owner);
        }
        position_ += count * sizeof(T);
        return true;
    }
    size_t position() const { return position_; }

private:
    const unsigned char* data_;
    size_t size_;
    size_t position_ = 0;
};

struct ColumnHeader {
    uint64_t numeric_count = 0;
    uint64_t key_count = 0;
    uint64_t offset_count = 0;
};

}  // namespace

std::string fingerprint(std::string_view plugin_name, std::string_view plugin_version,
                        std::string_view params_json, const std::vector<std::string>& source_paths,
                        std::string_view settings_json) {
    ContentHasher hasher;
    hasher.update_field("recprune dataset fingerprint v1");
    hasher.update_field(plugin_name);
    hasher.update_field(plugin_version);
    hasher.update_field(params_json);
    hasher.update_field(settings_json);
    hasher.update_u64(source_paths.size());
    for (const std::string& path : source_paths) {
        std::error_code error;
        uint64_t size = std::filesystem::file_size(path, error);
        if (error) {
            throw DataError("missing data file: " + path + ": " + error.message() +
                            "; check the dataset's parameters");
        }
        hasher.update_u64(size);
        hasher.update_file(path);
    }
    return hasher.hex_digest();
}

std::filesystem::path cache_file_path(const std::filesystem::path& cache_dir,
                                      const std::string& fingerprint) {
    return cache_dir / (fingerprint + ".rpcache");
}

void write_cache(const std::filesystem::path& path, const std::string& fingerprint,
                 const RawTable& table) {
    // A unique temporary name beside the target, so concurrent writers never share a file.
    std::random_device entropy;
    std::filesystem::path temporary =
        path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(entropy());
    try {
        CacheWriter writer(temporary);
        writer.write(kMagic, sizeof(kMagic));
        writer.write_u32(kFormatVersion);
        writer.write_u32(0);
        writer.write_string(fingerprint);
        writer.write_u64(table.row_count);
        writer.write_u64(table.columns.size());
        writer.write_string(table.metadata_json);
        for (const RawColumn& column : table.columns) {
            writer.write_string(column.name);
            writer.write_u32(column.type);
            writer.write_u32(column.roles);
            writer.write_u64(column.numeric.size());
            writer.write_u64(column.keys.size());
            writer.write_u64(column.offsets.size());
        }
        writer.pad_to_8();
        for (const RawColumn& column : table.columns) {
            writer.write_array(column.numeric);
            writer.write_array(column.keys);
            writer.write_array(column.offsets);
        }
        writer.finish();
        std::filesystem::rename(temporary, path);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

bool read_cache(const std::filesystem::path& path, const std::string& fingerprint, RawTable& table,
                std::string& reason) {
    auto mapping = std::make_shared<MappedCache>(path);
    if (mapping->data() == nullptr) {
        reason = "no cache file";
        return false;
    }
    // The last 16 bytes are the checksum and the end marker; everything before is hashed.
    constexpr size_t kTrailerBytes = sizeof(uint64_t) + sizeof(kEndMagic);
    if (mapping->size() < sizeof(kMagic) + kTrailerBytes) {
        reason = "not a recprune cache file";
        return false;
    }
    const size_t body_size = mapping->size() - kTrailerBytes;
    CacheCursor cursor(mapping->data(), body_size);
    char magic[sizeof(kMagic)];
    uint32_t version = 0, reserved = 0;
    if (!cursor.read(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
        reason = "not a recprune cache file";
        return false;
    }
    if (!cursor.read_u32(version) || !cursor.read_u32(reserved) || version != kFormatVersion) {
        reason = "cache format version " + std::to_string(version) + ", expected " +
                 std::to_string(kFormatVersion);
        return false;
    }
    std::string stored_fingerprint;
    if (!cursor.read_string(stored_fingerprint) || stored_fingerprint != fingerprint) {
        reason = "cache written for another fingerprint";
        return false;
    }
    const unsigned char* trailer = mapping->data() + body_size;
    uint64_t stored_checksum = 0;
    std::memcpy(&stored_checksum, trailer, sizeof(stored_checksum));
    if (std::memcmp(trailer + sizeof(stored_checksum), kEndMagic, sizeof(kEndMagic)) != 0) {
        reason = "cache trailer missing";
        return false;
    }
    ContentHasher hasher;
    hasher.update(mapping->data(), body_size);
    if (hasher.digest64() != stored_checksum) {
        reason = "cache checksum mismatch";
        return false;
    }

    // Column headers first, then the aligned arrays in the same order.
    uint64_t column_count = 0;
    table = RawTable{};
    if (!cursor.read_u64(table.row_count) || !cursor.read_u64(column_count) ||
        column_count > kMaxColumns || !cursor.read_string(table.metadata_json)) {
        reason = "cache header cut short";
        return false;
    }
    std::vector<ColumnHeader> headers(column_count);
    table.columns.resize(column_count);
    for (uint64_t index = 0; index < column_count; ++index) {
        RawColumn& column = table.columns[index];
        ColumnHeader& header = headers[index];
        if (!cursor.read_string(column.name) || !cursor.read_u32(column.type) ||
            !cursor.read_u32(column.roles) || !cursor.read_u64(header.numeric_count) ||
            !cursor.read_u64(header.key_count) || !cursor.read_u64(header.offset_count)) {
            reason = "cache column header cut short";
            return false;
        }
    }
    if (!cursor.skip_to_8()) {
        reason = "cache header cut short";
        return false;
    }
    std::shared_ptr<const void> owner = mapping;
    for (uint64_t index = 0; index < column_count; ++index) {
        RawColumn& column = table.columns[index];
        if (!cursor.borrow(column.numeric, headers[index].numeric_count, owner) ||
            !cursor.borrow(column.keys, headers[index].key_count, owner) ||
            !cursor.borrow(column.offsets, headers[index].offset_count, owner)) {
            reason = "cache arrays cut short";
            return false;
        }
    }
    if (cursor.position() != body_size) {
        reason = "cache has unexpected bytes after its arrays";
        return false;
    }
    try {
        validate_table(table);
    } catch (const PluginError& error) {
        reason = std::string("cache content invalid: ") + error.what();
        return false;
    }
    return true;
}

RawTable load_cached(const std::filesystem::path& cache_dir, const std::string& fingerprint,
                     const std::function<RawTable()>& parse) {
    if (cache_dir.empty()) return parse();

    std::filesystem::path path = cache_file_path(cache_dir, fingerprint);
    RawTable table;
    std::string reason;
    auto started = std::chrono::steady_clock::now();
    if (read_cache(path, fingerprint, table, reason)) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        RECPRUNE_INFO("data", "read cached table {} ({} rows, {:.1f} MB) in {:.3f} s",
                      path.string(), table.row_count, table.columnar_bytes() / 1e6, seconds);
        return table;
    }
    RECPRUNE_DEBUG("data", "not using cache {}: {}", path.string(), reason);

    table = parse();
    try {
        std::filesystem::create_directories(cache_dir);
        write_cache(path, fingerprint, table);
        RECPRUNE_DEBUG("data", "wrote cache {}", path.string());
    } catch (const std::exception& error) {
        RECPRUNE_WARN("data", "{}", error.what());
    }
    return table;
}

}  // namespace recprune::data
