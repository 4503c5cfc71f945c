import ChatKitCore

extension ChatStoreConformance {
    static var membershipCases: [Case] {
        []
    }
}
