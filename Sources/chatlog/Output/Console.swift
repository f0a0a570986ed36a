#if canImport(Glibc)
    import Glibc
#endif

/// Writes to standard output and error straight to the file descriptors, unbuffered, so lines
/// reach a pipe at once and the two streams never interleave mid-line.
enum Console {
    static func out(_ text: String) {
        write(text + "\n", to: 1)
    }

    static func error(_ text: String) {
        write(text + "\n", to: 2)
    }

    /// A progress line on standard error, rewritten in place when stderr is a terminal.
    static func progress(_ text: String) {
        write(isatty(2) != 0 ? "\r\u{1B}[K" + text : text + "\n", to: 2)
    }

    /// Ends a progress line started with `progress`.
    static func endProgress() {
        if isatty(2) != 0 { write("\n", to: 2) }
    }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
