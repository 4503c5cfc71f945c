public import ChatKitCore

/// The ChatKit client module.
///
/// `ChatClient` and its transports arrive with the engine and network-edge issues; this module exists now so
/// that apps can depend on the product name from the start.
public enum ChatKitClientModule {
    /// The version of the wire protocol this client module will speak.
    public static let protocolVersion = 1

    /// The identifier a client uses for its user.
    public typealias User = UserID
}
