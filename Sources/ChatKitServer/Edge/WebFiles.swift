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

import Foundation
public import Hummingbird
import HTTPTypes

/// Serves a folder of static files, such as the web chat bundled with `chatkit-server`, at the root of the HTTP
/// router, with headers that keep a page to its own origin.
///
/// `GET /` answers the folder's `index.html`; other paths answer the file of that name, or fall through to the
/// router's other routes. Hidden files and folders (a name beginning with `.`, such as `.env` or `.git`) are never
/// served. Serve a folder of its own: any other file in it can be downloaded (`chatkit-server` refuses a web root
/// that holds its database or signing secret). HTML, JavaScript and CSS are served as UTF-8 with
/// `Cache-Control: no-cache` (browsers revalidate with the ETag, so a new build is picked up at once).
///
/// Every response of the router, files and JSON alike, carries:
/// - `Content-Security-Policy`: scripts, styles, images and fetches from the same origin only, plus WebSockets to
///   the same host (`ws:`/`wss:`); no inline scripts or styles, no framing, no `<base>`.
/// - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.
///
/// Give it to a standalone ``WebSocketServerTransport``, or add it to your own router with ``addMiddleware(to:)``:
///
/// ```swift
/// let transport = WebSocketServerTransport(
///     configuration: .init(port: 8080),
///     httpRoutes: HTTPRoutes(auth: auth, store: store),
///     webFiles: WebFiles(directory: "Public")
/// )
/// ```
public struct WebFiles: Sendable {
    /// The folder whose files are served; paths containing `..` are refused.
    public var directory: String

    /// Creates a file server for a folder.
    ///
    /// - Parameter directory: The folder to serve at `/`.
    public init(directory: String) {
        self.directory = directory
    }

    /// Adds the security headers and the file server to a router, as middleware: routes take precedence over files.
    /// Call it before adding routes: Hummingbird applies a router's middleware to the routes added after it (and
    /// to unmatched paths), so routes added earlier answer without the headers.
    ///
    /// - Parameter router: Your application's HTTP router.
    public func addMiddleware<Context: RequestContext>(to router: Router<Context>) {
        let utf8 = { (type: MediaType) in type.withParameter(name: "charset", value: "utf-8") }
        router.add(middleware: SecurityHeadersMiddleware<Context>())
        router.add(
            middleware: VisibleFilesMiddleware(
                files: FileMiddleware<Context, LocalFileSystem>(
                    directory,
                    cacheControl: CacheControl([
                        (MediaType(type: .text), [.noCache]), (MediaType(type: .application), [.noCache]),
                        (MediaType(type: .image), [.noCache]),
                    ]),
                    searchForIndexHtml: true
                ).withAdditionalMediaTypes(forFileExtensions: [
                    "html": utf8(.textHtml), "js": utf8(.textJavascript), "mjs": utf8(.textJavascript),
                    "css": utf8(.textCss),
                ])
            )
        )
    }
}

/// Passes a request to the file server unless its path names a hidden file or folder; such a request goes on to
/// the router's routes (and is not found there).
struct VisibleFilesMiddleware<Context: RequestContext>: RouterMiddleware {
    let files: FileMiddleware<Context, LocalFileSystem>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.isVisible(request.uri.path) else { return try await next(request, context) }
        return try await files.handle(request, context: context, next: next)
    }

    /// Whether no component of the (decoded) path begins with `.`: hidden files, and `.` and `..`. A path that does
    /// not decode (invalid UTF-8) is not served.
    static func isVisible(_ path: String) -> Bool {
        guard let decoded = path.removingPercentEncoding else { return false }
        return !decoded.split(separator: "/").contains { $0.hasPrefix(".") }
    }
}

/// Adds the Content-Security-Policy and related headers to every response (see ``WebFiles``).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.policy(host: request.head.authority)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        return response
    }

    /// The policy for a page served to `host` (the request's `Host`): `'self'` does not cover WebSockets in every
    /// browser, so the same host's `ws:` and `wss:` are named when the host is a plain host name and port.
    static func policy(host: String?) -> String {
        var connect = "'self'"
        if let host, isPlainHost(host) {
            connect += " ws://\(host) wss://\(host)"
        }
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src \(connect); manifest-src 'self'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'"
    }

    /// Letters, digits, `.`, `-`, `:`, `[` and `]` only (a name or address and a port): nothing that could end or
    /// extend the policy.
    static func isPlainHost(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.count <= 255
            && host.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"),
                    UInt8(ascii: "["), UInt8(ascii: "]"):
                    true
                default: false
                }
            }
    }
}

extension HTTPField.Name {
    fileprivate static var referrerPolicy: Self { .init("Referrer-Policy")! }
}
