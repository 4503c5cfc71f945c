import ChatKitCore

extension ChatStoreConformance {
    static var contactCases: [Case] {
        []
    }
}
