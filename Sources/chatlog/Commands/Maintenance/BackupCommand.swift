import ArgumentParser
import EventLog
import Foundation
import LogBackends

/// The files of a data directory besides the log that a backup carries.
enum DataDirectoryFiles {
    static let names = ["apikeys.json", "credential-key", "jwt-secret"]

    /// Copies the ones that exist from one directory to another; the target ends
    /// readable by its owner alone, as a data directory is.
    static func copy(from source: String, to target: String) throws -> [String] {
        var copied: [String] = []
        for name in names where FileManager.default.fileExists(atPath: source + "/" + name) {
            try? FileManager.default.removeItem(atPath: target + "/" + name)
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: target + "/" + name)
            copied.append(name)
        }
        try PrivateDirectory.tighten(target)
        return copied
    }
}

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a hot, consistent, compacted copy of the data directory.",
        discussion: """
            Works beside a running server: the copy is one LMDB read transaction, so it holds \
            exactly the records committed when it began and never blocks writers. DIR must be new \
            or empty. Restore it with `chatlog restore DIR`.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Where to write the backup.") var directory: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, settings) = try await global.openLogReadOnly()
        defer { storage.close() }
        let started = ContinuousClock.now
        let heads = try await storage.shardInfos(storage.streams.flatMap(\.shards)).reduce(UInt64(0)) {
            $0 + $1.head
        }
        let copy = LogBackends.dataFile(directory: directory)
        try await FileCopyProgress.run(
            "backing up", target: copy, expectedBytes: try storage.statistics().usedBytes
        ) { [directory] in try storage.backup(to: directory) }
        let files = try DataDirectoryFiles.copy(from: settings.dataDirectory, to: directory)
        let size = FileCopyProgress.size(of: copy)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        if output.json {
            Console.out(
                JSONOutput.object([
                    ("dataDirectory", .string(settings.dataDirectory)), ("backup", .string(directory)),
                    ("shardHeadSum", .uint(heads)), ("bytes", .int(Int64(size))),
                    ("seconds", .double(seconds)),
                    ("files", .array(files.map(JSONOutput.string))),
                ]).text)
            return
        }
        Console.out(
            String(
                format: "backed up %@ (shard heads summing to %llu) to %@ in %.2f s: %.1f MiB compacted%@",
                settings.dataDirectory, heads, directory, seconds,
                Double(size) / 1_048_576, files.isEmpty ? "" : ", with " + files.joined(separator: " and ")))
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup into a data directory that holds no log.",
        discussion: "Copies the backup into --data-dir (which must hold no log yet), then verifies it.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "A directory written by `chatlog backup`.") var backup: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let settings = try await global.settings()
        let source = LogBackends.dataFile(directory: backup)
        guard LogBackends.exists(directory: backup) else {
            throw CommandFailure("\(backup) is not a chatlog backup: \(source) is missing")
        }
        let target = LogBackends.dataFile(directory: settings.dataDirectory)
        guard !LogBackends.exists(directory: settings.dataDirectory) else {
            throw CommandFailure(
                "\(settings.dataDirectory) already holds a log: restore into a new data directory (--data-dir)"
            )
        }
        try PrivateDirectory.create((target as NSString).deletingLastPathComponent)
        let size = FileCopyProgress.size(of: source)
        try await FileCopyProgress.run("restoring", target: target, expectedBytes: size) {
            try FileManager.default.copyItem(atPath: source, toPath: target)
        }
        let files = try DataDirectoryFiles.copy(from: backup, to: settings.dataDirectory)
        let storage = try LogBackends.open(
            directory: settings.dataDirectory, configuration: settings.log, readOnly: true)
        defer { storage.close() }
        let report = try storage.verify()
        guard report.isSound else {
            for violation in report.violations { Console.error("VIOLATION \(violation)") }
            throw ExitCode(1)
        }
        if output.json {
            Console.out(
                JSONOutput.object([
                    ("backup", .string(backup)), ("dataDirectory", .string(settings.dataDirectory)),
                    ("recordsVerified", .uint(UInt64(report.recordsChecked))),
                    ("files", .array(files.map(JSONOutput.string))),
                ]).text)
            return
        }
        Console.out(
            "restored \(backup) into \(settings.dataDirectory): \(report.recordsChecked) records verified"
                + (files.isEmpty ? "" : ", with " + files.joined(separator: " and ")))
    }
}
