import Foundation

/// Runs a blocking file copy on a thread of its own and, while it runs, shows every half
/// second how much of the target file is written: LMDB's copy and FileManager's give no
/// progress of their own.
enum FileCopyProgress {
    private enum Outcome<Result: Sendable>: Sendable {
        case copied(Result)
        case progress(shown: Bool)
    }

    static func run<Result: Sendable>(
        _ label: String, target: String, expectedBytes: Int,
        _ copy: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Outcome<Result>.self) { group in
            group.addTask {
                .copied(
                    try await withCheckedThrowingContinuation { continuation in
                        Thread { continuation.resume(with: Swift.Result { try copy() }) }.start()
                    })
            }
            group.addTask {
                var shown = false
                while (try? await Task.sleep(for: .milliseconds(500))) != nil {
                    let written =
                        (try? FileManager.default.attributesOfItem(atPath: target))?[.size] as? Int ?? 0
                    Console.progress(
                        "\(label): \(Format.bytes(UInt64(written))) of about "
                            + Format.bytes(UInt64(max(expectedBytes, written))))
                    shown = true
                }
                return .progress(shown: shown)
            }
            var copied: Result?
            do {
                while let outcome = try await group.next() {
                    switch outcome {
                    case .copied(let result):
                        copied = result
                        group.cancelAll()
                    case .progress(let shown):
                        if shown { Console.endProgress() }
                    }
                }
            } catch {
                group.cancelAll()
                while let outcome = try? await group.next() {
                    if case .progress(shown: true) = outcome { Console.endProgress() }
                }
                throw error
            }
            return copied!
        }
    }
}
