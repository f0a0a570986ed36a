import Foundation

/// Runs a blocking file copy on a thread of its own and, while it runs, shows every half
/// second how much of the target file is written: LMDB's copy and FileManager's give no
/// progress of their own.
enum FileCopyProgress {
    static func run<Result: Sendable>(
        _ label: String, target: String, expectedBytes: Int,
        _ copy: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        // Answers whether it showed a line, so that one that did is ended before anything else prints.
        let progress = Task {
            var shown = false
            while (try? await Task.sleep(for: .milliseconds(500))) != nil {
                let written = size(of: target)
                Console.progress(
                    "\(label): \(Format.bytes(UInt64(written))) of about "
                        + Format.bytes(UInt64(max(expectedBytes, written))))
                shown = true
            }
            return shown
        }
        func endProgress() async {
            progress.cancel()
            if await progress.value { Console.endProgress() }
        }
        do {
            let result = try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Swift.Result { try copy() }) }.start()
            }
            await endProgress()
            return result
        } catch {
            await endProgress()
            throw error
        }
    }

    /// The size of a file in bytes; 0 while it does not exist.
    static func size(of path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
    }
}
