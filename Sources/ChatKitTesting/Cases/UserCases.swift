import ChatKitCore

extension ChatStoreConformance {
    static var userCases: [Case] {
        [
            Case("users", "createUser assigns an ID and keeps the profile") { store in
                let user = try await store.createUser(
                    NewUser(username: "alice", displayName: "Alice", statusText: "hi"),
                    passwordHash: "h"
                )
                try check(!user.id.rawValue.isEmpty, "the new user has an empty ID")
                let fetched = try checkNotNil(try await store.user(user.id), "user(id) after createUser")
                try checkEqual(fetched.username, "alice", "username")
                try checkEqual(fetched.displayName, "Alice", "display name")
                try checkEqual(fetched.statusText, "hi", "status text")
                try checkEqual(try await store.user(username: "alice")?.id, user.id, "user(username:)")
            },
        ]
    }
}
