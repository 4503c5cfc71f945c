import ChatKitCore

extension ChatStoreConformance {
    static var searchCases: [Case] {
        []
    }
}
