// ChatKit web chat: the messages typed and not yet stored, kept in this tab's sessionStorage (as the login is, see
// session.js) so that reloading the page, or the page crashing, loses none of them. Once the page is connected
// again, pending ones are sent with their original client message IDs: one that was on the wire when the page went
// away is stored once by the server whatever happened to its answer. Failed ones stay failed until retried or
// discarded.

const KEY_PREFIX = "chatkit.outbox.";

/** The outbox of one user: a Map of clientMessageID -> {clientMessageID, conversationID, body, status, error, …}. */
export class Outbox {
    constructor(userID) {
        this.key = KEY_PREFIX + userID;
        this.messages = new Map();
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
            console.warn(`The saved outbox could not be read; it is kept as ${this.key}.unreadable`, error);
            sessionStorage.setItem(`${this.key}.unreadable`, saved);
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

    /** Forgets the saved outboxes of every user in this tab (a copied tab's, which belong to the tab it copies). */
    static forgetAll() {
        for (const key of Object.keys(sessionStorage)) {
            if (key.startsWith(KEY_PREFIX)) sessionStorage.removeItem(key);
        }
    }

    /** Forgets every message, saved ones included (logging out). */
    clear() {
        this.messages.clear();
        sessionStorage.removeItem(this.key);
    }
}
