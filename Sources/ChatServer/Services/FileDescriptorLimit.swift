import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The process's limit on open file descriptors, which bounds its connections.
enum FileDescriptorLimit {
    /// Descriptors kept free of connections: the log, its readers, the listener, the process's
    /// own files, and libdispatch's reads of `/proc` (see `ConnectionLimiter`).
    static let reserve = 512

    /// Raises the soft limit to the hard one and logs both; returns the soft limit now in force.
    static func raise(logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        let before = limit.rlim_cur
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) != 0 { limit.rlim_cur = before }
        }
        logger.info(
            "file descriptor limit",
            metadata: ["soft": "\(limit.rlim_cur)", "was": "\(before)", "hard": "\(limit.rlim_max)"])
        return limit.rlim_cur >= UInt(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    /// `connections` with its maximum lowered, with a warning, to what `limit` allows.
    static func fit(_ connections: ConnectionConfiguration, within limit: Int, logger: Logger)
        -> ConnectionConfiguration
    {
        let allowed = max(limit - reserve, 1)
        guard connections.maxConnections > allowed else { return connections }
        logger.warning(
            "http.maxConnections is more than the file descriptor limit allows; using the lower figure",
            metadata: [
                "configured": "\(connections.maxConnections)", "using": "\(allowed)", "limit": "\(limit)",
            ])
        var fitted = connections
        fitted.maxConnections = allowed
        return fitted
    }
}
