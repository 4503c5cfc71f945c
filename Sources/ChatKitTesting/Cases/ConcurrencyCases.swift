import ChatKitCore

extension ChatStoreConformance {
    static var concurrencyCases: [Case] {
        []
    }
}
