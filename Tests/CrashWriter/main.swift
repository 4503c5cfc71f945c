// The child process of the crash-durability test in ChatKitSQLiteTests.
//
// Usage: chatkit-sqlite-crash-writer <database path> <concurrent writers>
//
// Opens the database (creating the user "crash-writer" and the group "crash" on first use), then appends messages
// from several concurrent tasks forever, writing each acknowledged seq to standard output as one line as soon as
// `append` returns. The test kills it with SIGKILL and checks that every printed seq survived.
import ChatKitCore
import ChatKitSQLite
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3, let writers = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: chatkit-sqlite-crash-writer <database path> <writers>\n".utf8))
    exit(2)
}
let store = try SQLiteChatStore(path: arguments[1])
let user: UserID
if let existing = try await store.user(username: "crash-writer") {
    user = existing.id
} else {
    user = try await store.createUser(NewUser(username: "crash-writer"), passwordHash: nil).id
}
let conversation: ConversationID
if let existing = try await store.conversations(of: user).first {
    conversation = existing.conversation.id
} else {
    conversation = try await store.createConversation(.group("crash", createdBy: user)).id
}
let run = UUID().uuidString
FileHandle.standardOutput.write(Data("ready \(conversation.rawValue)\n".utf8))
try await withThrowingTaskGroup(of: Void.self) { tasks in
    for writer in 0..<writers {
        tasks.addTask {
            for number in 0... {
                let message = try await store.append(
                    NewMessage(
                        conversationID: conversation,
                        senderID: user,
                        clientMessageID: ClientMessageID(rawValue: "\(run)-\(writer)-\(number)"),
                        body: "writer \(writer) message \(number)"
                    )
                )
                // One write(2) per line, so lines from concurrent writers never interleave.
                FileHandle.standardOutput.write(Data("\(message.seq)\n".utf8))
            }
        }
    }
    try await tasks.waitForAll()
}
