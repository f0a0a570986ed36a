/// Figures a benchmark prints, as lines for people and as one JSON object for scripts.
struct BenchReport {
    private(set) var lines: [String] = []
    private(set) var sections: [(String, JSONOutput)] = []

    /// Adds a section of figures, printing `line` when there is one.
    mutating func add(_ line: String?, key: String, _ value: JSONOutput) {
        sections.append((key, value))
        if let line { note(line) }
    }

    mutating func note(_ line: String) {
        lines.append(line)
        Console.error(line)
    }

    var json: JSONOutput { .object(sections) }
}

#if DEBUG
    let buildConfiguration = "debug (figures are not representative: use -c release)"
#else
    let buildConfiguration = "release"
#endif
