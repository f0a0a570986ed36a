import EventLog
import Foundation

/// The HS256 secret a server uses when none is configured: generated once, kept in
/// `DIR/jwt-secret` (mode 0600), and shared with `chatlog token`.
public enum DevelopmentSecret {
    public static func load(directory: String) throws -> String {
        let path = directory + "/jwt-secret"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try PrivateDirectory.create(directory)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secret = Data(bytes).base64EncodedString()
        // With two processes starting at once the first one wins and both read its secret back.
        try PrivateFile.create(Data(secret.utf8), at: path)
        return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}
