import ChatKitCore

extension ChatStoreConformance {
    static var markerCases: [Case] {
        []
    }
}
