public import ServiceLifecycle

/// A ``ChatServer`` runs as a swift-service-lifecycle `Service`: a graceful shutdown stops its transports, which
/// tell their clients, and then ``ChatServer/run()`` returns.
extension ChatServer: Service {}
