import ChatKitCore

extension ChatStoreConformance {
    static var textCases: [Case] {
        []
    }
}
