import Crypto
import Foundation

/// Seals the SigV4 secrets that API keys carry: AES-256-GCM under a key kept in a file of its
/// own (`DIR/credential-key`, mode 0600, made on first use). `apikeys.json` holds only hashes
/// and sealed secrets, so that file alone hands nobody a working credential.
struct CredentialSealer {
    let path: String

    init(directory: String) {
        path = directory + "/credential-key"
    }

    /// The key, made now if there is none; with two processes making it at once the first
    /// one wins and both use its key.
    private func key(create: Bool) throws -> SymmetricKey? {
        if let data = FileManager.default.contents(atPath: path), data.count == 32 {
            return SymmetricKey(data: data)
        }
        guard create else { return nil }
        try PrivateFile.create(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }, at: path)
        return try key(create: false)
    }

    func seal(_ secret: String) throws -> String {
        guard let key = try key(create: true) else { throw CredentialKeyMissing(path: path) }
        return try AES.GCM.seal(Array(secret.utf8), using: key).combined!.base64EncodedString()
    }

    /// The secret, or nil when it cannot be unsealed (the key file is gone or another).
    func open(_ sealed: String) -> String? {
        guard let data = Data(base64Encoded: sealed), let key = try? key(create: false),
            let box = try? AES.GCM.SealedBox(combined: data),
            let secret = try? AES.GCM.open(box, using: key)
        else { return nil }
        return String(decoding: secret, as: UTF8.self)
    }
}

struct CredentialKeyMissing: Error, CustomStringConvertible {
    var path: String
    var description: String { "cannot create the credential key at \(path)" }
}
