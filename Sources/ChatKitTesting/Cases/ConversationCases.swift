import ChatKitCore

extension ChatStoreConformance {
    static var conversationCases: [Case] {
        []
    }
}
