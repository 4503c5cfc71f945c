//===----------------------------------------------------------------------===//
//
// This source file is part of the ChatKit open source project
//
// Copyright (c) 2026 the ChatKit project authors
// Licensed under Apache License v2.0 (see LICENSE)
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//


public import Hummingbird

extension HTTPRoutes {
    /// Adds the answers to cross-origin requests (CORS) that ``Configuration/allowedOrigins`` allows to a router:
    /// the preflight `OPTIONS` requests a browser sends before calling an endpoint from another origin's page, and
    /// the `Access-Control-Allow-Origin` header on the answers. Does nothing when no origin is allowed.
    ///
    /// A standalone ``WebSocketServerTransport`` calls it. On your own router call it first, before any other
    /// middleware (such as ``WebFiles/addMiddleware(to:)``) and before ``addRoutes(to:)``: a router's middleware
    /// answers for the middleware and routes added after it, and for every path's preflight, yours included.
    ///
    /// - Parameter router: Your application's HTTP router.
    public func addCrossOriginMiddleware<Context: RequestContext>(to router: Router<Context>) {
        guard !configuration.allowedOrigins.isEmpty else { return }
        router.add(middleware: CrossOriginMiddleware<Context>(allowedOrigins: configuration.allowedOrigins))
    }
}

extension HTTPRoutes.Configuration {
    /// Whether `text` is an origin ``allowedOrigins`` takes, written as a browser writes it in `Origin`: a scheme,
    /// `://`, a host (a name of letters, digits, `.` and `-`, with an international name in its `xn--` form, or an
    /// IPv6 address in brackets, in the shortest form browsers write: `[::1]`) and a port unless it is the scheme's
    /// default (browsers leave out `:443` of https and `:80` of http). No path, not even `/`; no pattern such as
    /// `https://*.example.com`, no list.
    public static func isOrigin(_ text: String) -> Bool {
        guard let separator = text.firstRange(of: "://") else { return false }
        let scheme = text[..<separator.lowerBound].lowercased()
        let authority = text[separator.upperBound...]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return false }
        let host: Substring
        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else { return false }
            port = rest.isEmpty ? nil : rest.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            port = parts.count > 1 ? parts[1] : nil
            guard !host.hasPrefix("."), !host.hasPrefix("-"),
                host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else { return false }
        }
        guard !host.isEmpty else { return false }
        guard let port else { return true }
        guard port.allSatisfy({ $0.isASCII && $0.isNumber }), !port.hasPrefix("0"), let number = Int(port),
            (1...65_535).contains(number)
        else { return false }
        let defaultPort = ["http": 80, "ws": 80, "https": 443, "wss": 443][scheme]
        return number != defaultPort
    }
}

/// Answers cross-origin requests for ``HTTPRoutes/Configuration/allowedOrigins``. Preflights from an allowed
/// origin go to Hummingbird's `CORSMiddleware`; the headers of every other answer are set here, failures included
/// (thrown errors are thrown on with the headers, so that a middleware outside this one, such as Hummingbird's
/// `FileMiddleware`, still sees a 404 as thrown), because that middleware sets `Access-Control-Expose-Headers` on
/// preflights only, where browsers do not read it. A request from any other origin is served without CORS headers,
/// so its browser keeps the answer from the page; with a list of origins every answer carries `Vary: Origin`, so
/// that caches keep apart what they stored for each.
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The allowed origins, lowercased (browsers write scheme and host in lower case).
    private let origins: Set<String>
    /// Whether `*` was allowed: any page.
    private let anyOrigin: Bool
    private let preflight: CORSMiddleware<Context>

    init(allowedOrigins: [String]) {
        anyOrigin = allowedOrigins.contains("*")
        origins = Set(allowedOrigins.map { $0.lowercased() })
        preflight = CORSMiddleware(
            allowOrigin: anyOrigin ? .all : .originBased,
            allowHeaders: [.accept, .authorization, .contentType],
            allowMethods: [.get, .head, .post, .options],
            allowCredentials: false,
            exposedHeaders: [CrossOriginHeaders.exposedHeaders],
            maxAge: .seconds(600)
        )
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let origin = request.headers[.origin]
        let allowed = origin.map { anyOrigin || origins.contains($0.lowercased()) } ?? false
        if allowed && request.method == .options {
            return try await preflight.handle(request, context: context, next: next)
        }
        let headers = CrossOriginHeaders(allowOrigin: anyOrigin ? "*" : allowed ? origin : nil, varies: !anyOrigin)
        do {
            var response = try await next(request, context)
            headers.add(to: &response)
            return response
        } catch {
            throw ErrorWithCrossOriginHeaders(error: error, headers: headers)
        }
    }
}

/// The CORS headers of one answer that is not a preflight.
struct CrossOriginHeaders: Sendable {
    /// `Access-Control-Allow-Origin`'s value, `nil` for none.
    var allowOrigin: String?
    /// Whether the answer depends on `Origin`.
    var varies: Bool
    /// The headers of an answer a page may read beyond the simple ones.
    static let exposedHeaders = "Retry-After, WWW-Authenticate"

    func add(to response: inout Response) {
        if let allowOrigin {
            response.headers[.accessControlAllowOrigin] = allowOrigin
            response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        }
        if varies && !response.headers[values: .vary].contains(where: { $0.lowercased() == "origin" }) {
            response.headers[values: .vary].append("Origin")
        }
    }
}

/// An error thrown through ``CrossOriginMiddleware``: answered as the error would be, with the CORS headers.
struct ErrorWithCrossOriginHeaders: HTTPResponseError {
    let error: any Error
    let headers: CrossOriginHeaders

    var status: HTTPResponse.Status { (error as? any HTTPResponseError)?.status ?? .internalServerError }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response: Response
        if let error = error as? any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } else {
            response = Response(status: .internalServerError)
        }
        headers.add(to: &response)
        return response
    }
}
