#if canImport(Glibc)
    import Glibc
#endif

/// A data directory only its owner can read: directories mode 0700 and files 0600, whatever the
/// umask. The log holds private conversations and the directory holds secrets, so no other
/// local user may read either.
package enum PrivateDirectory {
    /// Creates `path` (and any missing parent) mode 0700; an existing directory is left as is
    /// (`tighten` fixes it).
    package static func create(_ path: String) throws(EventLogError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) == 0 {
                // The umask may have taken bits away, never added them; set exactly 0700.
                chmod(prefix, 0o700)
            } else if errno != EEXIST {
                throw .storage("cannot create the directory \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Takes group and other permissions away from `path` and everything in it (directories
    /// 0700, files 0600); returns the paths it changed.
    @discardableResult
    package static func tighten(_ path: String) throws(EventLogError) -> [String] {
        var changed: [String] = []
        try tighten(path, changed: &changed)
        return changed
    }

    private static func tighten(_ path: String, changed: inout [String]) throws(EventLogError) {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            throw .storage("cannot inspect \(path): \(String(cString: strerror(errno)))")
        }
        let kind = status.st_mode & S_IFMT
        // Symbolic links and other special files are the operator's business.
        guard kind == S_IFDIR || kind == S_IFREG else { return }
        let wanted: mode_t = kind == S_IFDIR ? 0o700 : 0o600
        if status.st_mode & 0o777 != wanted {
            guard chmod(path, wanted) == 0 else {
                throw .storage("cannot restrict \(path) to its owner: \(String(cString: strerror(errno)))")
            }
            changed.append(path)
        }
        guard kind == S_IFDIR, let directory = opendir(path) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            try tighten(path + "/" + name, changed: &changed)
        }
    }
}
