public import ChatKitCore

/// The ChatKit server module.
///
/// The transport-agnostic `ChatServer` engine and its WebSocket/HTTP edge arrive with the engine and
/// network-edge issues; until then this module re-exports the storage contract a server is built on.
public enum ChatKitServerModule {
    /// The version of the wire protocol this server module will speak.
    public static let protocolVersion = 1

    /// The store type a server takes: any ``ChatStore``.
    public typealias Store = any ChatStore
}
