import ChatKitCore

extension ChatStoreConformance {
    static var syncCases: [Case] {
        []
    }
}
