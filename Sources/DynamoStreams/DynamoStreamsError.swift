import JSONCoding

/// An error as DynamoDB Streams answers it: its type in `__type`, a message, an HTTP status.
public struct DynamoStreamsError: Error, Equatable, Sendable, CustomStringConvertible {
    public var type: String
    public var message: String
    public var status: Int
    /// AWS's namespace for the type: DynamoDB's own, or the service framework's for
    /// authentication errors.
    public var namespace: String

    public init(type: String, message: String, status: Int = 400, namespace: String = Self.dynamoDB) {
        self.type = type
        self.message = message
        self.status = status
        self.namespace = namespace
    }

    public static let dynamoDB = "com.amazonaws.dynamodb.v20120810"
    public static let coral = "com.amazon.coral.service"

    public static func validation(_ message: String) -> Self {
        Self(type: "ValidationException", message: message)
    }

    public static func notFound(_ message: String) -> Self {
        Self(type: "ResourceNotFoundException", message: "Requested resource not found: \(message)")
    }

    public static func trimmed(_ message: String) -> Self {
        Self(type: "TrimmedDataAccessException", message: message)
    }

    public static func expired(_ message: String) -> Self {
        Self(type: "ExpiredIteratorException", message: message)
    }

    public static func serialization(_ message: String) -> Self {
        Self(type: "SerializationException", message: message)
    }

    public static func unknownOperation(_ target: String) -> Self {
        Self(
            type: "UnknownOperationException", message: "An unknown operation was requested: \(target)",
            namespace: coral)
    }

    public static func accessDenied(_ message: String) -> Self {
        Self(type: "AccessDeniedException", message: message, namespace: coral)
    }

    public static func internalError(_ message: String) -> Self {
        Self(type: "InternalServerError", message: message, status: 500)
    }

    /// An authentication failure as DynamoDB answers it (400, as all its client errors).
    public init(_ failure: SigV4Failure) {
        self.init(type: failure.type, message: failure.message, namespace: Self.coral)
    }

    /// `{"__type": "<namespace>#<type>", "message": …}`
    public var body: [UInt8] {
        JSONValue.object(["__type": .string("\(namespace)#\(type)"), "message": .string(message)]).bytes
    }

    public var description: String { "\(type): \(message)" }
}
