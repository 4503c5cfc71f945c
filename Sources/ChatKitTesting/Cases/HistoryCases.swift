import ChatKitCore

extension ChatStoreConformance {
    static var historyCases: [Case] {
        []
    }
}
