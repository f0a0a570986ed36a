/// A command that could not do its work: printed as "Error: …" with exit status 1, without the
/// usage text that argument errors get.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
