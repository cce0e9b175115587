import Foundation

/// A request the service refuses: an HTTP status, a short machine-readable code and a
/// message that quotes the offending values. Sent as `{"error": {"code": ..., "message": ...}}`.
public struct ServiceError: Error, CustomStringConvertible, Equatable, Sendable {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, _ message: String) {
        self.status = status; self.code = code; self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ m: String) -> ServiceError { ServiceError(status: 400, code: "bad_request", m) }
    static func notFound(_ m: String) -> ServiceError { ServiceError(status: 404, code: "not_found", m) }
    static func methodNotAllowed(_ m: String) -> ServiceError { ServiceError(status: 405, code: "method_not_allowed", m) }
    static func timeout(_ m: String) -> ServiceError { ServiceError(status: 408, code: "timeout", m) }
    static func tooLarge(_ m: String) -> ServiceError { ServiceError(status: 413, code: "body_too_large", m) }
    static func unsupported(_ m: String) -> ServiceError { ServiceError(status: 415, code: "unsupported_media_type", m) }
    static func badShape(_ m: String) -> ServiceError { ServiceError(status: 422, code: "bad_shape", m) }
    static func busy(_ m: String) -> ServiceError { ServiceError(status: 503, code: "busy", m) }

    /// The JSON body.
    public var json: Data {
        (try? JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message, "status": status]],
                                     options: [.sortedKeys])) ?? Data()
    }
}
