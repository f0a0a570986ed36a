import ArgumentParser

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Recovery drills: prove that a crash or a replay loses and duplicates nothing.",
        subcommands: [CrashDrillCommand.self, ReplayDrillCommand.self])
}

/// What a drill found, printed as a report and as JSON.
struct DrillFindings {
    var violations: [String] = []

    mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { violations.append(message()) }
    }
}
