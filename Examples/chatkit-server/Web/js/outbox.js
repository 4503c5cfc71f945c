// ChatKit web chat: the messages typed and not yet stored, kept in this tab's sessionStorage (as the login is, see
// session.js) so that reloading the page, or the page crashing, loses none of them. Once the page is connected
// again, pending ones are sent with their original client message IDs: one that was on the wire when the page went
// away is stored once by the server whatever happened to its answer. Failed ones stay failed until retried or
// discarded.
//
// An outbox belongs to the user who typed its messages: it is saved under their user ID, and only a page signed in
// as that user reads it. Logging out empties it. A login the server ended (refresh refused, session revoked) keeps
// it for the same user's next login in this tab, so that messages typed offline are not lost to an expired login,
// and so does a tab taken for a copy of another (app.js); but the next person to sign in here may be someone else,
// and a message sent from their page would be stored as theirs. So opening a user's outbox forgets every other
// user's in the tab: it is never sent, nor left in the tab's storage for the new user to read.

const KEY_PREFIX = "chatkit.outbox.";
const UNREADABLE_SUFFIX = ".unreadable";

/** The outbox of one user: a Map of clientMessageID -> {clientMessageID, conversationID, body, status, error, …}. */
export class Outbox {
    /** Opens `userID`'s outbox, and forgets the outboxes of every other user in this tab (see above). */
    constructor(userID) {
        this.key = KEY_PREFIX + userID;
        this.messages = new Map();
        Outbox.#forget((key) => key !== this.key && key !== this.key + UNREADABLE_SUFFIX);
        this.#load();
    }

    #load() {
        const saved = sessionStorage.getItem(this.key);
        if (saved === null) return;
        try {
            for (const message of JSON.parse(saved)) {
                if (typeof message?.clientMessageID !== "string" || typeof message.body !== "string") continue;
                const status = message.status === "failed" ? "failed" : "pending";
                this.messages.set(message.clientMessageID, { ...message, status, inFlight: false });
            }
        } catch (error) {
            // Not ours to read (damaged, or another version's): kept aside, not overwritten by the next save.
            const aside = this.key + UNREADABLE_SUFFIX;
            console.warn(`The saved outbox could not be read; it is kept as ${aside}`, error);
            sessionStorage.setItem(aside, saved);
            this.messages.clear();
        }
    }

    /** Saves the outbox; call it after changing a message's status. */
    save() {
        const messages = [...this.messages.values()].map(
            ({ clientMessageID, conversationID, body, status, error, createdAt }) =>
                ({ clientMessageID, conversationID, body, status, error, createdAt }));
        try {
            if (messages.length === 0) sessionStorage.removeItem(this.key);
            else sessionStorage.setItem(this.key, JSON.stringify(messages));
        } catch (error) {
            // Storage full or disabled: the messages are still sent from memory, they just do not survive a reload.
            console.warn("The outbox could not be saved; unsent messages will not survive a reload", error);
        }
    }

    set(id, message) {
        this.messages.set(id, message);
        this.save();
    }

    delete(id) {
        if (this.messages.delete(id)) this.save();
    }

    get(id) {
        return this.messages.get(id);
    }

    values() {
        return this.messages.values();
    }

    /** How many messages `userID`'s saved outbox in this tab holds (without opening it, which forgets the others). */
    static savedCount(userID) {
        try {
            const saved = JSON.parse(sessionStorage.getItem(KEY_PREFIX + userID) ?? "[]");
            return Array.isArray(saved) ? saved.length : 0;
        } catch {
            return 0;
        }
    }

    /** Removes the saved outboxes (unreadable ones included) whose storage key `matches`. */
    static #forget(matches) {
        for (const key of Object.keys(sessionStorage)) {
            if (key.startsWith(KEY_PREFIX) && matches(key)) sessionStorage.removeItem(key);
        }
    }

    /** Forgets every message, saved ones included (logging out). */
    clear() {
        this.messages.clear();
        sessionStorage.removeItem(this.key);
        sessionStorage.removeItem(this.key + UNREADABLE_SUFFIX);
    }
}
