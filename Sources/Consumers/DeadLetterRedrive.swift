import EventLog

/// What a re-drive of a group's dead letters did.
public struct RedriveReport: Sendable {
    /// Handled this time, and removed from the list.
    public var redriven: [Position] = []
    /// Still failing (or no longer kept), and left in the list, with why.
    public var failed: [(position: Position, error: String)] = []
}

extension RecordHandler {
    /// Hands each of `group`'s dead letters to this handler again; those it now handles leave
    /// the list. The one re-drive, for the admin API and the command line alike.
    public func redrive(_ group: String, in storage: any LogStorage) async throws -> RedriveReport {
        var report = RedriveReport()
        for letter in try await storage.deadLetters(group: group) {
            guard let record = try await storage.record(at: letter.position) else {
                report.failed.append((letter.position, "the record is no longer kept"))
                continue
            }
            do {
                try await handle(record)
                _ = try await storage.removeDeadLetter(group: group, position: letter.position)
                report.redriven.append(letter.position)
            } catch {
                report.failed.append((letter.position, "\(error)"))
            }
        }
        return report
    }
}
