import ChatKitCore

extension ChatStoreConformance {
    static var messageCases: [Case] {
        []
    }
}
