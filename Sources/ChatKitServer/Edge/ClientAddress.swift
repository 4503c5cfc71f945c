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


import ChatKitCore
import Foundation
import NIOCore

/// Which address a request comes from, for the limits ``HTTPRoutes`` keeps per address: the socket's peer, or,
/// when the peer is one of the trusted reverse proxies, the client the proxies name in `X-Forwarded-For`.
///
/// Each proxy appends the address it received the request from to `X-Forwarded-For`, so the header reads
/// `client, proxy1, proxy2` and only its right end can be believed: the client writes whatever it likes to the
/// left. The client is therefore the rightmost address that is not itself a trusted proxy. A header that names
/// no such address, or names it in a form that is not an IP address, leaves the request to the proxy's address.
struct ClientAddressResolver: Sendable {
    /// The trusted proxies' addresses, in ``canonicalText(_:)`` form.
    let trustedProxies: Set<String>

    /// - Throws: `ChatError.invalidArgument` naming an entry that is not an IPv4 or IPv6 address.
    init(trustedProxies: [String]) throws {
        var canonical: Set<String> = []
        for text in trustedProxies {
            guard let address = Self.parse(text) else {
                throw ChatError(
                    .invalidArgument,
                    "The trusted proxy '\(text)' is not an IP address (give each proxy's address, such as 127.0.0.1 "
                        + "or ::1)."
                )
            }
            canonical.insert(Self.canonicalText(address))
        }
        self.trustedProxies = canonical
    }

    /// The client's address: `peer` itself unless it is a trusted proxy, else the rightmost address of
    /// `forwardedFor` (the values of every `X-Forwarded-For` field, in order) that is not a trusted proxy.
    func clientAddress(peer: SocketAddress?, forwardedFor: [String]) -> SocketAddress? {
        guard let peer, !trustedProxies.isEmpty, trustedProxies.contains(Self.canonicalText(peer)) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
        for hop in hops.reversed() {
            let text = hop.trimmingCharacters(in: .whitespaces)
            // Empty list elements are ignored, as in any HTTP list (RFC 9110, 5.6.1).
            if text.isEmpty { continue }
            guard let address = Self.parse(text) else { return peer }
            if !trustedProxies.contains(Self.canonicalText(address)) { return address }
        }
        return peer
    }

    /// An address as `X-Forwarded-For` entries and configurations write it: `192.0.2.1`, `2001:db8::1`, and, as some
    /// proxies add a port, `192.0.2.1:4711` and `[2001:db8::1]:4711`.
    static func parse(_ text: some StringProtocol) -> SocketAddress? {
        var host = Substring(text)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            host = host[..<colon]
        }
        return try? SocketAddress(ipAddress: String(host), port: 0)
    }

    /// One text per address: an IPv4 address reaching an IPv6 socket (`::ffff:192.0.2.1`) reads as the IPv4 one,
    /// and IPv6 addresses in their shortest form.
    static func canonicalText(_ address: SocketAddress) -> String {
        if let bytes = ipv6Bytes(of: address), let ipv4 = mappedIPv4(bytes) { return ipv4 }
        return address.ipAddress ?? ""
    }

    /// The 16 bytes of an IPv6 address; `nil` for another kind of address.
    static func ipv6Bytes(of address: SocketAddress) -> [UInt8]? {
        guard case .v6(let v6) = address else { return nil }
        // The address bytes of the `sockaddr_in6`, after its family, port and flow information (offset 8 on Linux
        // and Darwin alike). Read by offset: naming `sin6_addr` makes the compiler want the C module NIO declares
        // the type through, which it attributes differently from build to build.
        return withUnsafeBytes(of: v6.address) { Array($0[8..<24]) }
    }

    /// The IPv4 address an IPv6 one maps (`::ffff:a.b.c.d`, as an IPv4 client reaches an IPv6 socket), as text.
    static func mappedIPv4(_ bytes: [UInt8]) -> String? {
        guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return bytes[12...].map(String.init).joined(separator: ".")
    }
}
