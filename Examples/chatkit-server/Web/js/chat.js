// ChatKit web chat: the signed-in view. State lives in plain objects; render functions rebuild the
// conversation list and update the message list in place (keyed by message), so focus and scroll survive.

import { ChatConnection, RequestError } from "./connection.js";
import { h, isAtBottom, timeElement, timeOrderedID, utf8Length } from "./dom.js";
import { Outbox } from "./outbox.js";

// History is read in pages of DEFAULT_PAGE_SIZE messages, or of `?pageSize=N` from the address (the browser test
// reads pages of two). Anyone can edit an address, so N is taken only when it is a whole number from 1 to the
// server's largest page (its welcome's `maxPageSize`): the server refuses a negative or fractional `limit`, which
// would leave every history empty, 0 reads nothing, and a larger page is cut by the server anyway.
const DEFAULT_PAGE_SIZE = 50;
const REQUESTED_PAGE_SIZE = (() => {
    const text = new URLSearchParams(location.search).get("pageSize") ?? "";
    return /^[0-9]{1,9}$/.test(text) ? Number(text) : null;
})();
// The server's limits until its welcome announces them: ChatServerConfiguration.Limits' defaults.
const DEFAULT_MAX_PAGE_SIZE = 500;
// In UTF-8 bytes, up to three per UTF-16 code unit ("é" is 2 bytes, most CJK characters 3). The message box has no
// maxlength, which would cut a long paste without a word: the size is said as the text changes, and checked before
// sending.
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const TOO_LONG = "This message is too long to send:"; // how the size warning starts
const MAX_TITLE_BYTES = 256; // a group's name, in bytes of UTF-8 (as the server counts it)
const MESSAGE_EVENTS_KEPT = 1_000; // per conversation, the last events of messages that answers are checked against
const TYPING_REFRESH_MS = 3_000; // refresh our typing indicator this often while typing
const TYPING_IDLE_MS = 4_000; // stop it after this long without a keystroke
const MEMBER_LOADS_AT_ONCE = 4; // member lists loaded together after the conversation list
const MAX_MEMBERS_SHARING_MARKERS = 100; // larger groups (and channels) send receipts to the reader alone
const MAX_MEMBERS_SHARING_TYPING = 100; // the server shows no typing in larger groups (nor in channels)
const LIST_RETRY_MAX_MS = 30_000; // the longest wait before reading a conversation list that failed again
const SEND_RETRY_MAX_MS = 15_000; // the longest wait before sending again a message whose answer did not come
// Sends of a message the server refused with a fault it may recover from (`storageFailure`, `unavailable`,
// `unauthenticated`, or a code this page does not know) before it is failed (Client.md's `maximumSendAttempts`).
const MAX_SEND_ATTEMPTS = 5;
// Codes that refuse a send for good: sending it again gets the same answer (`limitExceeded` without retry-after).
const SEND_REFUSED_FOR_GOOD = new Set(["forbidden", "notFound", "invalidArgument", "conflict", "limitExceeded"]);
const REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

const $ = (id) => document.getElementById(id);

/** The view once signed in. `onSignedOut(message)` is called when the login ends. */
export class ChatApp {
    constructor(session, onSignedOut) {
        this.session = session;
        this.onSignedOut = onSignedOut;
        this.me = session.user;
        this.users = new Map([[this.me.id, this.me]]);
        this.conversations = new Map(); // id -> Conversation state (see #conversationState)
        this.leftAt = new Map(); // conversation id -> the position of the `memberRemoved` that removed me from it
        this.presence = new Map(); // userID -> {isOnline, lastSeenAt}
        this.pending = new Outbox(this.me.id); // unsent messages, kept across reloads of this tab
        this.sendingTo = new Set(); // conversations whose pending messages are being sent (see #sendInOrder)
        this.sessions = 0; // sessions synced so far: a list read that failed is read again during its session only
        this.refreshTimer = null; // the next list read outside a sync (see #refreshSoon)
        this.refreshing = false; // such a read is under way
        this.refreshAgain = false; // another was asked for meanwhile
        this.refreshFailures = 0; // such reads failed in a row, this session
        this.openID = null;
        this.listError = null; // why the conversation list did not load, said where the list would be
        this.listRead = false; // the whole conversation list was read (since the last rewind)
        this.undelivered = new Set(); // conversations whose last message, from the list, is to be marked delivered
        this.deliveryWorkers = 0;
        this.drafts = new Map(); // conversation id -> the text left in the message box when another was opened
        this.groupCreation = null; // {form, key} of a "Create group" not answered yet: a retry sends the same key
        this.typingLimit = 5_000;
        this.ownTyping = { conversationID: null, sentAt: 0, idleTimer: null };
        this.listeners = new AbortController();
        this.renderQueued = false;
        this.listNodes = new Map(); // conversation id -> its <li> in the list
        this.messageNodes = new Map(); // "m:<id>" or "p:<clientMessageID>" -> its <li> in the open conversation
        this.strayNodes = new Map(); // clientMessageID -> its <li> above the list (see #renderStray)

        const scheme = location.protocol === "https:" ? "wss:" : "ws:";
        this.connection = new ChatConnection({
            url: `${scheme}//${location.host}/v1/ws`,
            accessToken: (force) => this.session.accessToken({ force }),
        });
    }

    // MARK: Lifecycle

    start() {
        const signal = this.listeners.signal;
        const on = (target, type, handler) => target.addEventListener(type, handler, { signal });
        const c = this.connection;
        on(c, "status", (e) => this.#showStatus(e.detail));
        on(c, "welcome", (e) => this.#onWelcome(e.detail));
        on(c, "synced", (e) => this.#onSynced(e.detail));
        on(c, "rewound", () => this.#onRewound());
        on(c, "event", (e) => this.#apply(e.detail));
        on(c, "presence", (e) => this.#onPresence(e.detail));
        on(c, "typing", (e) => this.#onTyping(e.detail));
        on(c, "signedout", () => this.#signedOut());

        on($("logout-button"), "click", () => this.#logOut());
        on($("direct-form"), "submit", (e) => this.#startDirect(e));
        on($("group-form"), "submit", (e) => this.#createGroup(e));
        on($("password-form"), "submit", (e) => this.#changePassword(e));
        on($("composer"), "submit", (e) => {
            e.preventDefault();
            this.#sendFromComposer();
        });
        const input = $("composer-input");
        on(input, "keydown", (e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                this.#sendFromComposer();
            }
        });
        on(input, "input", () => {
            this.#autosize(input);
            this.#sayIfTooLarge(input.value);
            this.#typed();
        });
        on(input, "blur", () => this.#stopTyping());
        on($("message-scroller"), "scroll", () => {
            if ($("message-scroller").scrollTop < 60) this.#loadOlder();
        });
        on($("load-older"), "click", () => this.#loadOlder());
        on($("history-retry"), "click", () => {
            const state = this.conversations.get(this.openID);
            if (state) this.#loadLatest(state);
        });
        on($("back-button"), "click", () => this.#closeConversation());
        on(document, "visibilitychange", () => this.#markOpenRead());
        on(window, "hashchange", () => this.#openFromHash());

        this.#showMe();
        this.connection.start();
        this.render();
    }

    stop() {
        // Nothing renders any more: an answer that arrives after this (a send failed by the stop) must not draw
        // this login's conversations back onto the page.
        this.stopped = true;
        this.listeners.abort();
        this.connection.stop();
        clearTimeout(this.refreshTimer);
        for (const conversation of this.conversations.values()) {
            for (const timer of conversation.typing.values()) clearTimeout(timer);
        }
        clearTimeout(this.ownTyping.idleTimer);
    }

    async #logOut() {
        // The outbox is this login's: logging out discards it, which the user decides (a closed tab keeps it).
        const unsent = [...this.pending.values()].length;
        const question =
            unsent === 1
                ? "A message was not sent yet; logging out discards it. Log out anyway?"
                : `${unsent} messages were not sent yet; logging out discards them. Log out anyway?`;
        if (unsent > 0 && !confirm(question)) return;
        this.stop();
        this.#clearView();
        this.pending.clear();
        await this.session.logOut();
        this.onSignedOut("You are logged out.");
    }

    /** The server ended the login (refresh refused, session revoked): unlike logging out, the outbox is kept. */
    #signedOut() {
        this.stop();
        this.#clearView();
        this.session.forget();
        // The outbox waits for this user's next login in this tab, and goes if someone else signs in first
        // (outbox.js): what it holds was typed by this user and is sent as them only.
        const unsent = [...this.pending.values()].length > 0;
        this.onSignedOut(`Your session ended. Log in again${unsent ? " to send your unsent messages" : ""}.`);
    }

    /**
     * Leaves nothing of this login on the page for whoever signs in next: messages, draft, list, address, the
     * forms' fields and answers (passwords typed into the change form, above all).
     */
    #clearView() {
        $("messages").replaceChildren();
        $("conversation-list").replaceChildren();
        $("empty-list").textContent = "No conversations yet.";
        $("stray-messages").replaceChildren();
        $("stray-outbox").hidden = true;
        $("composer-input").value = "";
        $("composer-input").style.height = "";
        this.drafts.clear();
        $("action-error").textContent = "";
        $("composer").hidden = true;
        $("conversation-title").textContent = "Pick a conversation";
        $("conversation-presence").hidden = true;
        $("typing-indicator").textContent = "";
        $("load-older").hidden = true;
        $("my-name").textContent = "";
        $("my-username").textContent = "";
        $("announcer").textContent = "";
        $("history-error").hidden = true;
        $("history-error-text").textContent = "";
        for (const id of ["direct-username", "group-title", "group-members", "current-password", "new-password"]) {
            $(id).value = "";
        }
        for (const id of ["direct-error", "group-error", "password-error", "password-done"]) $(id).textContent = "";
        // Closed, as a new login finds them.
        for (const id of ["new-direct", "new-group", "change-password"]) $(id).open = false;
        if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    }

    // MARK: Connection

    #showStatus({ state, retryInMs, reason, final }) {
        if (state === "offline" && this.presence.size > 0) {
            // Unknown until the next session, which sends the presence of everyone online.
            this.presence.clear();
            this.render();
        }
        const element = $("connection-status");
        element.dataset.state = state;
        element.textContent = {
            connecting: "Connecting…",
            syncing: "Catching up…",
            online: "Online",
            offline: retryInMs ? `Offline: reconnecting in ${Math.ceil(retryInMs / 1000)} s` : "Offline",
        }[state];
        // Why the server refused the session (too many connections, say), as it put it.
        if (state === "offline" && reason) element.textContent = `${element.textContent}. ${reason}`;
        // Refused for good (no protocol version shared with this server): the page does not try again by itself.
        if (final) element.textContent = `${element.textContent} Reload the page to try again.`;
    }

    /** The server's limit `name` from its welcome, or `fallback` before the first welcome. */
    #limit(name, fallback) {
        const value = this.connection.limits?.[name];
        return Number.isSafeInteger(value) && value > 0 ? value : fallback;
    }

    #showMe() {
        $("my-name").textContent = this.me.displayName || this.me.username;
        $("my-username").textContent = `@${this.me.username}`;
    }

    #onWelcome(welcome) {
        this.me = welcome.user;
        this.users.set(this.me.id, this.me);
        this.#showMe();
        this.typingLimit = welcome.limits?.typingTimeoutMilliseconds ?? this.typingLimit;
        // The server sends the presence of everyone online after each hello; forget the old picture.
        this.presence.clear();
        for (const conversation of this.conversations.values()) this.#clearTyping(conversation);
        this.render();
    }

    /** The server's stream went back (a restored database): forget what is shown; the sync after reloads it. */
    #onRewound() {
        // What is typed in the box stays: the sync after reopens the conversation, and its draft with it.
        this.#keepDraft();
        this.conversations.clear();
        this.listRead = false; // until it is read again, a message's conversation may just not be known yet
        this.leftAt.clear(); // positions from before the rewind
        this.undelivered.clear();
        this.openID = null;
        this.messageNodes = new Map();
        $("messages").replaceChildren();
        // No conversation is open until the sync after reopens it (from the address): nothing to type into.
        $("composer").hidden = true;
        document.body.classList.remove("conversation-open");
    }

    async #onSynced({ resumed }) {
        const session = ++this.sessions;
        // This sync reads the list: a read asked for, or tried again, in the last session is not needed.
        clearTimeout(this.refreshTimer);
        this.refreshFailures = 0;
        // Messages typed while offline go out first, with their original client message IDs: the server stores a
        // connection's sends in order, so one typed after reconnecting cannot overtake them.
        for (const message of this.pending.values()) {
            if (message.status === "pending") this.#sendInOrder(message.conversationID);
        }
        try {
            // Read until it works (a store recovering, a request that timed out), waiting longer each time, while
            // this session lasts: the next one reads the list itself.
            for (let attempt = 0; ; attempt++) {
                try {
                    await this.#readConversationList();
                    break;
                } catch (error) {
                    // Said where the list would be (not "No conversations yet.").
                    this.listError = error.message ?? String(error);
                    this.render();
                    console.warn("ChatKit: the conversation list failed; trying again", error);
                }
                await new Promise((resolve) => setTimeout(resolve, Math.min(LIST_RETRY_MAX_MS, 1_000 * 2 ** attempt)));
                if (this.stopped || !this.connection.isOnline || this.sessions !== session) return;
            }
            if (resumed) {
                // Catch-up brought the events we missed; markers are refreshed in case a page was skipped, and a
                // history that failed to load while offline is loaded now.
                const open = this.conversations.get(this.openID);
                if (open && !open.loaded) await this.#loadLatest(open);
                if (this.openID) await this.#loadMarkers(this.openID);
            }
            // Before the member lists: the conversation in the address opens at once (also when the list could not
            // be read at the first sync, or a rewind closed it).
            if (this.openID === null) this.#openFromHash();
            this.#markOpenRead();
            await this.#loadMissingMembers();
            // Names of people met while catching up (requests are refused until the session is synced, so the
            // events' own loads failed) and of the senders the list and histories show.
            await this.#loadUnknownProfiles();
        } catch (error) {
            console.warn("ChatKit: loading after sync failed", error);
        }
    }

    // MARK: Conversations

    /** The state of `conversation`, made or updated; `since`: the cursor when the request it answers was sent. */
    #conversationState(conversation, since) {
        let state = this.conversations.get(conversation.id);
        if (!state) {
            state = {
                conversation,
                unreadCount: 0,
                lastMessage: null,
                myMarker: { readSeq: 0, deliveredSeq: 0 },
                memberIDs: null,
                markers: new Map(), // userID -> Marker
                messages: new Map(), // message id -> Message, only once history is loaded
                loaded: false,
                loading: null,
                loadError: null, // why the latest history did not load, shown with a way to try again
                hasOlder: false,
                loadingOlder: false,
                typing: new Map(), // userID -> timer
                markingRead: false,
                deliverTimer: null,
                // What events changed, so that the answer to a request sent before them does not put back the older
                // copy it may hold (see #changedSince): the conversation's position; each message ID's last event;
                // each user ID's last membership change, {position, isMember}.
                conversationChangedAt: -Infinity,
                messageEvents: new Map(),
                memberChanges: new Map(),
            };
            this.conversations.set(conversation.id, state);
        } else {
            // From an answer, a rename an event brought since the request was sent is newer; lastSeq only grows.
            const newest = this.#changedSince(state.conversationChangedAt, since) ? state.conversation : conversation;
            const lastSeq = Math.max(state.conversation.lastSeq ?? 0, conversation.lastSeq ?? 0);
            state.conversation = { ...newest, lastSeq };
        }
        return state;
    }

    /**
     * Whether an event at `position` came after `since`, the cursor when a request was sent (undefined for an
     * event's own copy). The socket keeps frames in order, but the server reads an answer when it serves the request,
     * and the event of a change stored after that may reach the page before the answer: the event's copy is newer.
     */
    #changedSince(position, since) {
        return since !== undefined && position > since;
    }

    /** `message` as an answer to a request sent at `since` holds it, or the newer copy an event brought since. */
    #newestCopy(state, message, since) {
        const event = state.messageEvents.get(message.id);
        return event && this.#changedSince(event.position, since) ? event.message : message;
    }

    async #refreshConversations() {
        await this.#readConversationList();
        await this.#loadMissingMembers();
        await this.#loadUnknownProfiles();
    }

    async #readConversationList() {
        // The list comes in pages, most recently active first. Nothing is forgotten here: a conversation active
        // while the pages are read moves ahead of them and is in none, and leaving one arrives as `memberRemoved`
        // (after a rewind the list starts empty).
        // Events that came while a page was asked for are newer than what it says (see #changedSince).
        let before;
        for (;;) {
            let since;
            const { conversations = [], hasMore = false } = await this.#withRetryAfter(() => {
                since = this.connection.cursor;
                return this.connection.request("listConversations", before === undefined ? {} : { before });
            });
            for (const summary of conversations) {
                const id = summary.conversation.id;
                if (this.#changedSince(this.leftAt.get(id) ?? -Infinity, since)) continue; // left meanwhile
                // The server counted the unread messages up to its last message and my read marker; a count that
                // events took past either (a message, a read in another tab) is newer.
                const known = this.conversations.get(id);
                const counted = !known || ((summary.conversation.lastSeq ?? 0) >= (known.conversation.lastSeq ?? 0)
                    && summary.marker.readSeq >= known.myMarker.readSeq);
                const state = this.#conversationState(summary.conversation, since);
                if (counted) state.unreadCount = summary.unreadCount;
                const last = summary.lastMessage;
                if (last) this.#storeLastMessage(state, this.#newestCopy(state, last, since));
                // Markers only move forward: mine from a `markerUpdated` meanwhile stays.
                const marker = summary.marker;
                if (marker.readSeq >= state.myMarker.readSeq && marker.deliveredSeq >= state.myMarker.deliveredSeq) {
                    state.myMarker = marker;
                    state.markers.set(this.me.id, marker);
                }
                // A direct conversation is named after its other member, whom the summary names.
                if (summary.otherMemberID && state.memberIDs === null) {
                    state.memberIDs = [this.me.id, summary.otherMemberID];
                }
                // Messages that came while the page was closed reach it here, not as events: they were delivered.
                if (last && last.senderID !== this.me.id && summary.marker.deliveredSeq < last.seq) {
                    this.undelivered.add(state);
                }
            }
            if (!hasMore || conversations.length === 0) break;
            before = conversations[conversations.length - 1].activity;
        }
        this.listError = null;
        this.listRead = true;
        this.render();
        // Two at a time, waiting out rate limits (after a weekend away there may be hundreds), from one queue that
        // a list read again while they run only adds to.
        while (this.deliveryWorkers < 2 && this.undelivered.size > 0) {
            this.deliveryWorkers += 1;
            this.#markListDelivered().finally(() => {
                this.deliveryWorkers -= 1;
                this.render();
            });
        }
    }

    async #markListDelivered() {
        for (let state = this.#takeUndelivered(); state; state = this.#takeUndelivered()) {
            const { id: conversationID, lastSeq: seq } = state.conversation;
            if (state.myMarker.deliveredSeq >= seq || this.stopped) continue;
            await this.#withRetryAfter(() => this.connection.request("markDelivered", { conversationID, seq }))
                .then(({ markers = [] }) => markers.forEach((marker) => this.#setMarker(state, marker)))
                .catch(() => {});
        }
    }

    #takeUndelivered() {
        const [state] = this.undelivered;
        this.undelivered.delete(state);
        return state;
    }

    async #loadMissingMembers() {
        // Direct conversations are named after the other member, whom their summaries name; a server from before
        // that field is asked, a few at a time (one request each; the rate limit allows bursts of about a hundred).
        // Their names come after, together. A group's members load when it is opened.
        const waiting = [...this.conversations.values()].filter(
            (state) => state.memberIDs === null && state.conversation.kind === "direct");
        const worker = async () => {
            for (let state = waiting.shift(); state; state = waiting.shift()) {
                await this.#withRetryAfter(() => this.#loadMembers(state.conversation.id, { withProfiles: false }))
                    .catch(() => {});
            }
        };
        await Promise.all(Array.from({ length: Math.min(MEMBER_LOADS_AT_ONCE, waiting.length) }, worker));
    }

    /** Loads the profiles of everyone the page shows but does not know yet, in as few requests as it may. */
    async #loadUnknownProfiles() {
        const ids = new Set();
        for (const state of this.conversations.values()) {
            for (const id of state.memberIDs ?? []) ids.add(id);
            for (const message of state.messages.values()) ids.add(message.senderID);
            if (state.lastMessage) ids.add(state.lastMessage.senderID);
        }
        const unknown = [...ids].filter((id) => !this.users.has(id));
        const size = this.#limit("maxPageSize", DEFAULT_MAX_PAGE_SIZE);
        for (let start = 0; start < unknown.length; start += size) {
            const chunk = unknown.slice(start, start + size);
            await this.#withRetryAfter(() => this.#loadProfiles(chunk)).catch(() => {});
        }
    }

    /** Runs `request`, again after the server's retry-after when it answers a rate limit (ten times at most). */
    async #withRetryAfter(request) {
        for (let attempt = 1; ; attempt++) {
            try {
                return await request();
            } catch (error) {
                const wait = error.code === "limitExceeded" ? error.retryAfterMilliseconds : undefined;
                if (!wait || attempt >= 10 || this.stopped) throw error;
                await new Promise((resolve) => setTimeout(resolve, wait));
            }
        }
    }

    /**
     * Reads the conversation list again in `delay` ms (one read at a time: one asked for during a read follows it).
     * A read that fails is tried again, waiting longer each time (1 s doubling to 30 s), while this session lasts:
     * the next session's sync reads the list itself.
     */
    #refreshSoon(delay = 300) {
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => this.#refreshNow(), delay);
    }

    async #refreshNow() {
        if (this.stopped || !this.connection.isOnline) return;
        if (this.refreshing) {
            this.refreshAgain = true;
            return;
        }
        this.refreshing = true;
        this.refreshAgain = false;
        const session = this.sessions;
        let retryIn = null;
        try {
            await this.#refreshConversations();
            this.refreshFailures = 0;
        } catch (error) {
            if (this.stopped || this.sessions !== session) return;
            console.warn("ChatKit: reading the conversation list failed; trying again", error);
            retryIn = Math.min(LIST_RETRY_MAX_MS, 1_000 * 2 ** this.refreshFailures++);
        } finally {
            this.refreshing = false;
        }
        if (retryIn !== null) this.#refreshSoon(retryIn);
        else if (this.refreshAgain) this.#refreshSoon();
    }

    async #loadMembers(conversationID, { withProfiles = true } = {}) {
        const since = this.connection.cursor;
        const { members = [] } = await this.connection.request("members", { conversationID });
        const state = this.conversations.get(conversationID);
        if (!state) return;
        // Whoever joined or left since the request was sent is as the last event about them says.
        const memberIDs = new Set(members.map((member) => member.userID));
        for (const [userID, { position, isMember }] of state.memberChanges) {
            if (!this.#changedSince(position, since)) continue;
            if (isMember) memberIDs.add(userID);
            else memberIDs.delete(userID);
        }
        state.memberIDs = [...memberIDs];
        if (withProfiles) await this.#loadProfiles(state.memberIDs);
        this.render();
    }

    async #loadProfiles(userIDs) {
        const unknown = [...new Set(userIDs)].filter((id) => !this.users.has(id));
        if (unknown.length === 0) return;
        const { users = [] } = await this.connection.request("profiles", { userIDs: unknown });
        // One known by now came with a `profileUpdated` (or a later answer), which is newer.
        for (const user of users) if (!this.users.has(user.id)) this.users.set(user.id, user);
        this.render();
    }

    async #loadMarkers(conversationID) {
        const { markers = [] } = await this.connection.request("markers", { conversationID });
        const state = this.conversations.get(conversationID);
        if (!state) return;
        for (const marker of markers) this.#setMarker(state, marker);
        this.render();
    }

    #forget(id, position) {
        this.leftAt.set(id, position);
        const state = this.conversations.get(id);
        if (state) this.#clearTyping(state);
        // Its unsent messages cannot be sent any more (the server would refuse them, `notFound`): failed, they are
        // listed above the conversations (#renderStray), to be copied or discarded.
        let failed = false;
        for (const message of this.pending.values()) {
            if (message.conversationID !== id || message.status !== "pending") continue;
            message.status = "failed";
            message.error = state
                ? `You are no longer a member of ${this.#isolatedTitle(state)}.`
                : "You are no longer a member of this conversation.";
            failed = true;
        }
        if (failed) this.pending.save();
        this.conversations.delete(id);
        if (this.openID === id) this.#closeConversation();
        this.drafts.delete(id);
    }

    #otherMember(state) {
        return state.memberIDs?.find((id) => id !== this.me.id) ?? null;
    }

    #name(userID) {
        const user = this.users.get(userID);
        return user ? user.displayName || user.username : "Someone";
    }

    /** The name, isolated for running text: a name written right to left (or ending in U+202E) cannot turn the
     * words after it around ("is typing…", ": message"). */
    #isolatedName(userID) {
        return `\u2068${this.#name(userID)}\u2069`;
    }

    #title(state) {
        if (state.conversation.kind === "direct") {
            const other = this.#otherMember(state);
            return other ? this.#name(other) : "Direct chat";
        }
        return state.conversation.title || "Untitled group";
    }

    /** The title, isolated for running text (see #isolatedName). */
    #isolatedTitle(state) {
        return `\u2068${this.#title(state)}\u2069`;
    }

    /** The user with this username (`findUser`); throws a RequestError `notFound` naming it when there is none. */
    async #findUser(username) {
        const { users = [] } = await this.connection.request("findUser", { username });
        if (users.length === 0) throw new RequestError("notFound", `Nobody has the username "${username}".`);
        this.users.set(users[0].id, users[0]);
        return users[0];
    }

    async #changePassword(event) {
        event.preventDefault();
        const current = $("current-password");
        const next = $("new-password");
        $("password-error").textContent = "";
        $("password-done").textContent = "";
        try {
            await this.session.changePassword(current.value, next.value);
            // Logged out meanwhile: nothing of this login on the next user's page (so too after the other forms').
            if (this.stopped) return;
            current.value = "";
            next.value = "";
            $("password-done").textContent = "Password changed. Your other devices and tabs were logged out.";
        } catch (error) {
            if (this.stopped) return;
            // The server's reason: a wrong current password, a new one that breaks a rule, a login that ended. No
            // answer (status 0) may follow a change made: the new password may be the one that works now.
            $("password-error").textContent =
                error.status === 0
                    ? "The server did not answer; the password may have changed. If this page logs out, log in " +
                      "with the new one."
                    : error.message;
            (error.code === "invalidArgument" ? next : current).focus();
        }
    }

    async #startDirect(event) {
        event.preventDefault();
        const input = $("direct-username");
        const error = $("direct-error");
        const username = input.value.trim().replace(/^@/, "");
        error.textContent = "";
        if (!username) {
            error.textContent = "Enter their username.";
            return input.focus();
        }
        try {
            const user = await this.#findUser(username);
            if (user.id === this.me.id) throw new RequestError("invalidArgument", "That is you: enter their username.");
            // Creating a direct conversation again returns the existing one.
            const since = this.connection.cursor;
            const { conversation } = await this.connection.request("createConversation", {
                kind: "direct",
                memberIDs: [user.id],
            });
            if (this.stopped) return;
            const state = this.#conversationState(conversation, since);
            state.memberIDs = [this.me.id, user.id];
            input.value = "";
            $("new-direct").open = false;
            this.#open(conversation.id);
        } catch (failure) {
            if (this.stopped) return;
            error.textContent = this.#explain(failure);
            input.focus();
        }
    }

    async #createGroup(event) {
        event.preventDefault();
        const title = $("group-title").value.trim();
        const usernames = $("group-members")
            .value.split(/[\s,]+/)
            .map((name) => name.trim().replace(/^@/, "").toLowerCase())
            .filter((name) => name && name !== this.me.username);
        const error = $("group-error");
        error.textContent = "";
        if (!title) {
            error.textContent = "Give the group a name.";
            return $("group-title").focus();
        }
        if (utf8Length(title) > MAX_TITLE_BYTES) {
            error.textContent =
                `A group's name takes at most ${MAX_TITLE_BYTES} bytes of UTF-8 (accented letters, most scripts and ` +
                `emoji take 2 to 4 bytes each); this one takes ${utf8Length(title)}.`;
            return $("group-title").focus();
        }
        try {
            const members = [];
            for (const username of new Set(usernames)) members.push(await this.#findUser(username));
            const memberIDs = members.map((user) => user.id).filter((id) => id !== this.me.id);
            // The same form sent again (after "Not connected", say) keeps its key: if the first request made the
            // group and only its answer was lost, the server answers that group instead of making a second.
            const form = JSON.stringify([title, memberIDs]);
            if (this.groupCreation?.form !== form) this.groupCreation = { form, key: timeOrderedID() };
            const since = this.connection.cursor;
            const { conversation } = await this.connection.request("createConversation", {
                kind: "group",
                title,
                memberIDs,
                creationKey: this.groupCreation.key,
            });
            this.groupCreation = null;
            if (this.stopped) return;
            this.#conversationState(conversation, since).memberIDs = [this.me.id, ...memberIDs];
            $("group-title").value = "";
            $("group-members").value = "";
            $("new-group").open = false;
            this.#open(conversation.id);
        } catch (failure) {
            if (this.stopped) return;
            error.textContent = this.#explain(failure);
        }
    }

    #explain(error) {
        if (error.code === "unavailable") {
            // No answer in time while the session goes on (a slow server), or no session.
            const why = this.connection.isOnline ? "The server did not answer in time." : "Not connected.";
            return `${why} Try again in a moment.`;
        }
        return error.message || "That did not work.";
    }

    // MARK: Opening a conversation and history

    #openFromHash() {
        const id = new URLSearchParams(location.hash.slice(1)).get("c");
        if (id && this.conversations.has(id) && id !== this.openID) this.#open(id, { focus: false });
    }

    #open(id, { focus = true } = {}) {
        if (this.openID !== id) {
            this.#stopTyping();
            // Each conversation keeps its own draft: text typed for one is never sent to the next one opened.
            this.#keepDraft();
            $("action-error").textContent = "";
            const input = $("composer-input");
            input.value = this.drafts.get(id) ?? "";
            this.drafts.delete(id);
            this.#autosize(input);
        }
        this.openID = id;
        history.replaceState(null, "", `#c=${encodeURIComponent(id)}`);
        document.body.classList.add("conversation-open");
        $("composer").hidden = false;
        $("messages").replaceChildren();
        this.messageNodes = new Map();
        this.render();
        const state = this.conversations.get(id);
        if (state && !state.loaded) this.#loadLatest(state);
        else this.#scrollToBottom();
        if (state && state.memberIDs === null) this.#loadMembers(id).catch(() => {});
        if (state) this.#loadMarkers(id).catch(() => {});
        this.#markOpenRead();
        if (focus) $("composer-input").focus();
    }

    /** Moves the message box's text into the open conversation's draft, and empties the box. */
    #keepDraft() {
        const input = $("composer-input");
        if (this.openID && input.value.trim() !== "") this.drafts.set(this.openID, input.value);
        input.value = "";
    }

    #closeConversation() {
        this.#stopTyping();
        this.#keepDraft();
        this.openID = null;
        history.replaceState(null, "", location.pathname + location.search);
        document.body.classList.remove("conversation-open");
        $("composer").hidden = true;
        $("messages").replaceChildren();
        this.messageNodes = new Map();
        this.render();
        $("conversation-list").querySelector("button")?.focus();
    }

    async #loadLatest(state) {
        if (state.loading) return state.loading;
        state.loadError = null;
        state.loading = (async () => {
            try {
                let since;
                const { messages = [] } = await this.#withRetryAfter(() => {
                    since = this.connection.cursor;
                    return this.connection.request("history", {
                        conversationID: state.conversation.id,
                        limit: this.#pageSize(),
                    });
                });
                for (const message of messages) this.#storeMessage(state, message, since);
                state.loaded = true;
                // Seqs have no gaps: older messages exist while the first one's is above 1 (a page of large
                // messages may hold fewer than a page size).
                state.hasOlder = messages.length > 0 && messages[0].seq > 1;
                await this.#loadProfiles(messages.map((message) => message.senderID)).catch(() => {});
                this.render();
                this.#scrollToBottom();
                this.#fillViewport();
                this.#markOpenRead();
            } catch (error) {
                // Shown in the pane with a way to try again (it is also tried again when the session resumes).
                console.warn("ChatKit: history failed", error);
                state.loadError = error.message ?? String(error);
                this.render();
            } finally {
                state.loading = null;
            }
        })();
        return state.loading;
    }

    /** The size of a history page: `?pageSize=` when the server takes it, else the default (see DEFAULT_PAGE_SIZE). */
    #pageSize() {
        const requested = REQUESTED_PAGE_SIZE;
        const largest = this.#limit("maxPageSize", DEFAULT_MAX_PAGE_SIZE);
        return requested !== null && requested >= 1 && requested <= largest ? requested : DEFAULT_PAGE_SIZE;
    }

    async #loadOlder() {
        const state = this.conversations.get(this.openID);
        if (!state || !state.loaded || !state.hasOlder || state.loadingOlder) return;
        const oldest = Math.min(...[...state.messages.values()].map((message) => message.seq));
        state.loadingOlder = true;
        const scroller = $("message-scroller");
        try {
            const since = this.connection.cursor;
            const { messages = [] } = await this.connection.request("history", {
                conversationID: state.conversation.id,
                before: oldest,
                limit: this.#pageSize(),
            });
            await this.#loadProfiles(messages.map((message) => message.senderID)).catch(() => {});
            // Keep the messages on screen where they are while older ones appear above them.
            const fromBottom = scroller.scrollHeight - scroller.scrollTop;
            for (const message of messages) this.#storeMessage(state, message, since);
            state.hasOlder = messages.length > 0 && messages[0].seq > 1;
            this.#renderNow();
            scroller.scrollTop = scroller.scrollHeight - fromBottom;
        } catch (error) {
            // Not tried again at once (offline, refused): the next scroll up or "Load earlier messages" tries again.
            console.warn("ChatKit: older history failed", error);
            return;
        } finally {
            state.loadingOlder = false;
        }
        this.#fillViewport();
    }

    /** Loads older pages while the messages do not fill the view (there is nothing to scroll up yet). */
    #fillViewport() {
        requestAnimationFrame(() => {
            const scroller = $("message-scroller");
            const state = this.conversations.get(this.openID);
            if (state?.hasOlder && scroller.scrollHeight <= scroller.clientHeight + 60) this.#loadOlder();
        });
    }

    #scrollToBottom() {
        requestAnimationFrame(() => {
            const scroller = $("message-scroller");
            scroller.scrollTop = scroller.scrollHeight;
        });
    }

    // MARK: Events from the server

    /**
     * Stores a message from an event or, with `since` (see #changedSince), from an answer. A conversation whose
     * history is neither loaded nor loading keeps only its last message and seq (for the list): one left unopened in
     * a busy channel would otherwise hold every message that came while the page was open. Opening it loads its
     * latest page.
     */
    #storeMessage(state, message, since) {
        message = this.#newestCopy(state, message, since);
        if (state.loaded || state.loading || state.messages.has(message.id)) state.messages.set(message.id, message);
        this.#storeLastMessage(state, message);
        if (message.seq > (state.conversation.lastSeq ?? 0)) state.conversation.lastSeq = message.seq;
        if (message.senderID === this.me.id) this.pending.delete(message.clientMessageID);
    }

    #storeLastMessage(state, message) {
        if (!state.lastMessage || message.seq >= state.lastMessage.seq) state.lastMessage = message;
    }

    #apply(event) {
        const state = event.conversationID ? this.conversations.get(event.conversationID) : null;
        // Kept also for a message whose history is not loaded: one being loaded may be older (see #changedSince).
        // The newest MESSAGE_EVENTS_KEPT only (a Map keeps insertion order: a message's new event moves to the end),
        // so that a page left open does not grow with every message: no answer waits for that many events.
        if (state && event.message) {
            state.messageEvents.delete(event.message.id);
            state.messageEvents.set(event.message.id, event);
            if (state.messageEvents.size > MESSAGE_EVENTS_KEPT) {
                state.messageEvents.delete(state.messageEvents.keys().next().value);
            }
        }
        switch (event.kind) {
            case "messageCreated": {
                if (!state) return this.#refreshSoon();
                const message = event.message;
                const isNew = !state.messages.has(message.id) && message.seq > (state.conversation.lastSeq ?? 0);
                this.#storeMessage(state, message);
                // Someone this page has not met (while catching up this fails; the sync's end loads them all).
                if (!this.users.has(message.senderID)) this.#loadProfiles([message.senderID]).catch(() => {});
                if (message.senderID === this.me.id) {
                    // Mine, from any device: it reads what came before it, as the server counts unread messages.
                    if (isNew) state.unreadCount = 0;
                } else {
                    this.#stopTypingOf(state, message.senderID);
                    // Deleted before it was routed: the server does not count it either.
                    if (isNew && message.seq > state.myMarker.readSeq && !message.deletedAt) {
                        state.unreadCount += 1;
                        this.#announce(state, message);
                    }
                    this.#markDelivered(state, message.seq);
                    this.#markOpenRead();
                }
                break;
            }
            case "messageDeleted":
                // An unread message deleted: the server counts what is left.
                if (state && state.unreadCount > 0 && event.message.senderID !== this.me.id &&
                    event.message.seq > state.myMarker.readSeq) this.#refreshSoon();
            // falls through: the tombstone replaces the message
            case "messageEdited":
            case "reactionAdded":
            case "reactionRemoved":
                if (state && state.messages.has(event.message.id)) this.#storeMessage(state, event.message);
                else if (state && state.lastMessage?.id === event.message.id) state.lastMessage = event.message;
                break;
            case "markerUpdated":
                if (state) this.#setMarker(state, event.marker);
                break;
            case "conversationCreated": {
                const created = this.#conversationState(event.conversation);
                created.conversationChangedAt = event.position;
                created.memberIDs = (event.members ?? []).map((member) => member.userID);
                this.#loadProfiles(created.memberIDs).catch(() => {});
                break;
            }
            case "conversationUpdated":
                if (state) {
                    // The event's lastSeq may be older than one a list answer brought meanwhile.
                    const lastSeq = Math.max(state.conversation.lastSeq ?? 0, event.conversation.lastSeq ?? 0);
                    state.conversation = { ...state.conversation, ...event.conversation, lastSeq };
                    state.conversationChangedAt = event.position;
                }
                break;
            case "membersAdded": {
                const added = (event.members ?? []).map((member) => member.userID);
                if (!state || added.includes(this.me.id)) return this.#refreshSoon();
                const change = { position: event.position, isMember: true };
                for (const id of added) state.memberChanges.set(id, change);
                if (state.memberIDs) state.memberIDs = [...new Set([...state.memberIDs, ...added])];
                this.#loadProfiles(added).catch(() => {});
                break;
            }
            case "memberRemoved": {
                const removed = (event.members ?? []).map((member) => member.userID);
                if (removed.includes(this.me.id)) {
                    this.#forget(event.conversationID, event.position);
                } else if (state) {
                    const change = { position: event.position, isMember: false };
                    for (const id of removed) state.memberChanges.set(id, change);
                    if (state.memberIDs) state.memberIDs = state.memberIDs.filter((id) => !removed.includes(id));
                }
                break;
            }
            case "profileUpdated":
                if (event.user) {
                    this.users.set(event.user.id, event.user);
                    if (event.user.id === this.me.id) {
                        this.me = event.user;
                        this.#showMe();
                    }
                }
                break;
            default:
                break; // contactChanged, memberRoleChanged and unknown kinds change nothing on screen
        }
        this.render();
    }

    #setMarker(state, marker) {
        const known = state.markers.get(marker.userID);
        if (known && known.readSeq >= marker.readSeq && known.deliveredSeq >= marker.deliveredSeq) return;
        state.markers.set(marker.userID, marker);
        if (marker.userID === this.me.id) {
            const readBefore = state.myMarker.readSeq;
            state.myMarker = marker;
            if (marker.readSeq >= (state.conversation.lastSeq ?? 0)) state.unreadCount = 0;
            // Read part of it elsewhere (another tab): the server counts what is left. Not for the open
            // conversation: marking it read goes on up to its last message (#markOpenRead), and a busy one would
            // have the list read again at every message.
            else if (marker.readSeq > readBefore && state.conversation.id !== this.openID) this.#refreshSoon();
        }
    }

    #onPresence(frame) {
        this.presence.set(frame.userID, { isOnline: frame.isOnline, lastSeenAt: frame.lastSeenAt });
        this.render();
    }

    #onTyping({ conversationID, userID, isTyping }) {
        const state = this.conversations.get(conversationID);
        if (!state || userID === this.me.id) return;
        clearTimeout(state.typing.get(userID));
        if (isTyping) {
            // The server stops it after the timeout; stop it here too in case that frame is lost.
            state.typing.set(
                userID,
                setTimeout(() => this.#stopTypingOf(state, userID), this.typingLimit + 1_000),
            );
        } else {
            state.typing.delete(userID);
        }
        this.render();
    }

    #stopTypingOf(state, userID) {
        clearTimeout(state.typing.get(userID));
        if (state.typing.delete(userID)) this.render();
    }

    #clearTyping(state) {
        for (const timer of state.typing.values()) clearTimeout(timer);
        state.typing.clear();
    }

    #announce(state, message) {
        const where = state.conversation.kind === "direct" ? "" : ` in ${this.#title(state)}`;
        const body = message.body.length > 140 ? message.body.slice(0, 140) + "…" : message.body;
        $("announcer").textContent = `${this.#isolatedName(message.senderID)}${where}: ${body}`;
    }

    // MARK: Markers

    #markDelivered(state, seq) {
        if (state.myMarker.deliveredSeq >= seq) return;
        clearTimeout(state.deliverTimer);
        state.deliverTimer = setTimeout(() => {
            const upTo = state.conversation.lastSeq;
            if (state.myMarker.deliveredSeq >= upTo || !this.connection.isOnline) return;
            this.connection
                .request("markDelivered", { conversationID: state.conversation.id, seq: upTo })
                .then(({ markers = [] }) => markers.forEach((marker) => this.#setMarker(state, marker)))
                .catch(() => {});
        }, 250);
    }

    /** Marks the open conversation read up to its newest message when the page is visible. */
    async #markOpenRead() {
        const state = this.conversations.get(this.openID);
        if (!state || !state.loaded || document.visibilityState !== "visible") return;
        if (state.markingRead || !this.connection.isOnline) return;
        const upTo = state.conversation.lastSeq ?? 0;
        if (upTo <= state.myMarker.readSeq) {
            if (state.unreadCount !== 0) {
                state.unreadCount = 0;
                this.render();
            }
            return;
        }
        state.markingRead = true;
        try {
            const { markers = [] } = await this.connection.request("markRead", {
                conversationID: state.conversation.id,
                seq: upTo,
            });
            for (const marker of markers) this.#setMarker(state, marker);
            // Unless a message came meanwhile: it is unread.
            if (state.myMarker.readSeq >= (state.conversation.lastSeq ?? 0)) state.unreadCount = 0;
            this.render();
        } catch (error) {
            // Tried again when something changes (a message, a reconnection, the page shown again), not in a loop.
            console.warn("ChatKit: markRead failed", error);
            return;
        } finally {
            state.markingRead = false;
        }
        // More arrived meanwhile?
        if ((state.conversation.lastSeq ?? 0) > state.myMarker.readSeq) this.#markOpenRead();
    }

    // MARK: Sending

    #sendFromComposer() {
        const input = $("composer-input");
        const body = input.value.trim();
        if (!body || !this.openID) return;
        // Refused here, not by the server: the text stays in the box to be shortened, where a refused send would
        // become a failed message that can only be discarded.
        const tooLarge = this.#bodySizeError(body);
        $("action-error").textContent = tooLarge ?? "";
        if (tooLarge) return input.focus();
        input.value = "";
        this.#autosize(input);
        // Sending ends typing on the server.
        this.ownTyping.conversationID = null;
        clearTimeout(this.ownTyping.idleTimer);
        const message = {
            clientMessageID: timeOrderedID(),
            conversationID: this.openID,
            body,
            status: "pending",
            error: null,
            createdAt: Date.now(),
        };
        this.pending.set(message.clientMessageID, message);
        this.render();
        this.#scrollToBottom();
        this.#sendInOrder(message.conversationID);
    }

    /** Why `body` is too large to send (the server's limit is in UTF-8 bytes, not characters), or null. */
    #bodySizeError(body) {
        const largest = this.#limit("maxBodyBytes", DEFAULT_MAX_BODY_BYTES);
        if (body.length * 3 <= largest) return null; // fits, however it is written (and saves encoding each keystroke)
        const size = new TextEncoder().encode(body).length;
        if (size <= largest) return null;
        const number = new Intl.NumberFormat();
        return (
            `${TOO_LONG} it takes ${number.format(size)} bytes, and the most a message may ` +
            `take is ${number.format(largest)} (accented letters, most scripts and emoji take 2 to 4 bytes each). ` +
            "Shorten it and send again."
        );
    }

    /**
     * Says as soon as the text typed or pasted (into the message box or an edit box) is too large to send, and stops
     * saying it once it fits. Said once, not at each keystroke (the error is an alert); sending says it again.
     */
    #sayIfTooLarge(text) {
        const error = $("action-error");
        const saying = error.textContent.startsWith(TOO_LONG);
        const tooLarge = this.#bodySizeError(text.trim());
        if (tooLarge && !saying) error.textContent = tooLarge;
        else if (!tooLarge && saying) error.textContent = "";
    }

    /**
     * Sends the conversation's pending messages one at a time, in the outbox's order: a message goes out once the
     * one ahead of it is stored or has failed for good. One refused for the rate or for a fault the server may
     * recover from (a few times, see #trySend), or whose answer did not come while the session goes on, is sent again
     * (with the same client message ID) before those behind it, so none overtakes it. While offline they wait for the
     * next `synced`, which calls this again.
     */
    async #sendInOrder(conversationID) {
        if (this.sendingTo.has(conversationID)) return; // that loop takes the new message in its turn
        this.sendingTo.add(conversationID);
        try {
            let unanswered = 0;
            for (;;) {
                if (this.stopped || !this.connection.isOnline) return; // sent on the next `synced`
                const message = [...this.pending.values()].find(
                    (waiting) => waiting.conversationID === conversationID && waiting.status === "pending");
                if (!message) return;
                const wait = await this.#trySend(message);
                if (wait === null) {
                    unanswered = 0;
                    continue;
                }
                if (wait === undefined) {
                    // Not answered in time on a session still open (a slow store), or refused for a fault: again,
                    // waiting longer each time. (A session the server ends, after `unauthenticated`, is left: the
                    // next one's `synced` sends it.)
                    if (!this.connection.isOnline) return;
                    unanswered += 1;
                }
                await new Promise((resolve) =>
                    setTimeout(resolve, wait ?? Math.min(SEND_RETRY_MAX_MS, 500 * 2 ** unanswered)));
            }
        } finally {
            this.sendingTo.delete(conversationID);
        }
    }

    /**
     * Sends `message` once. Returns null when it is done with (stored, or failed for good), the milliseconds to
     * wait before sending it again when the rate limit refused it, or undefined when it is to be sent again after a
     * backoff (it stays pending): no answer came, or the server refused it with a fault it may recover from (its
     * store failed, a code this page does not know, or the login was revoked while it was on its way: the server
     * ends the session and the next one sends it). Those refusals count: the `MAX_SEND_ATTEMPTS`th fails it.
     */
    async #trySend(message) {
        let wait = null;
        try {
            const since = this.connection.cursor;
            const { message: stored } = await this.connection.request("send", {
                conversationID: message.conversationID,
                clientMessageID: message.clientMessageID,
                body: message.body,
            });
            const state = this.conversations.get(stored.conversationID);
            if (state) this.#storeMessage(state, stored, since);
            this.pending.delete(message.clientMessageID);
        } catch (error) {
            // A socket that dropped, or an answer that did not come, is not the server's refusal: not counted.
            const retried = !SEND_REFUSED_FOR_GOOD.has(error.code);
            if (retried && (error.code !== "unavailable" || error.answered)) {
                message.failedAttempts = (message.failedAttempts ?? 0) + 1;
            }
            if (error.code === "limitExceeded" && error.retryAfterMilliseconds) {
                wait = error.retryAfterMilliseconds;
            } else if (retried && (message.failedAttempts ?? 0) < MAX_SEND_ATTEMPTS) {
                // Not stored: sent again, with the same ID, before the messages behind it (which would overtake it).
                message.status = "pending";
                wait = undefined;
            } else {
                message.status = "failed";
                message.error = error.message;
            }
        } finally {
            this.pending.save();
        }
        this.render();
        return wait;
    }

    #retry(message) {
        message.status = "pending";
        message.error = null;
        message.failedAttempts = 0;
        this.pending.save();
        this.render();
        this.#sendInOrder(message.conversationID);
    }

    #discard(message) {
        this.pending.delete(message.clientMessageID);
        this.render();
    }

    // MARK: Typing

    #typed() {
        const conversationID = this.openID;
        if (!conversationID || !this.connection.isOnline) return;
        if (!this.#sharesTyping(this.conversations.get(conversationID))) return;
        if ($("composer-input").value.trim() === "") return this.#stopTyping();
        const now = Date.now();
        if (this.ownTyping.conversationID !== conversationID || now - this.ownTyping.sentAt > TYPING_REFRESH_MS) {
            this.ownTyping.conversationID = conversationID;
            this.ownTyping.sentAt = now;
            this.connection.request("typing", { conversationID, isTyping: true }).catch(() => {});
        }
        clearTimeout(this.ownTyping.idleTimer);
        this.ownTyping.idleTimer = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
    }

    /** Whether the other members would be shown our typing (the server accepts it anywhere, shows it only here). */
    #sharesTyping(state) {
        if (!state || state.conversation.kind === "channel") return false;
        return state.conversation.kind === "direct" || (state.memberIDs ?? []).length <= MAX_MEMBERS_SHARING_TYPING;
    }

    #stopTyping() {
        const conversationID = this.ownTyping.conversationID;
        clearTimeout(this.ownTyping.idleTimer);
        if (!conversationID) return;
        this.ownTyping.conversationID = null;
        if (this.connection.isOnline) {
            this.connection.request("typing", { conversationID, isTyping: false }).catch(() => {});
        }
    }

    #autosize(textarea) {
        textarea.style.height = "auto";
        const borders = textarea.offsetHeight - textarea.clientHeight;
        textarea.style.height = `${Math.min(textarea.scrollHeight + borders, 160)}px`;
        textarea.style.overflowY = textarea.scrollHeight + borders > 160 ? "auto" : "hidden";
    }

    // MARK: Message actions

    /** Sends an edit, a deletion or a reaction; `true` once stored. A failure is shown (and announced). */
    async #act(type, fields) {
        try {
            const since = this.connection.cursor;
            const { message } = await this.connection.request(type, fields);
            if (this.stopped) return false;
            $("action-error").textContent = "";
            const state = message && this.conversations.get(message.conversationID);
            if (state) this.#storeMessage(state, message, since);
            this.render();
            return true;
        } catch (error) {
            if (this.stopped) return false;
            $("action-error").textContent = `That did not work: ${this.#explain(error)}`;
            return false;
        }
    }

    #toggleReaction(message, emoji) {
        const mine = message.reactions.some((r) => r.emoji === emoji && r.userID === this.me.id);
        this.#act(mine ? "unreact" : "react", { messageID: message.id, emoji });
    }

    #startEdit(message) {
        this.editingID = message.id;
        this.editDraft = message.body;
        this.render();
        requestAnimationFrame(() => {
            const input = document.querySelector(`#messages .edit-form textarea`);
            input?.focus();
            input?.select();
        });
    }

    async #finishEdit(message, body) {
        const trimmed = body?.trim();
        const tooLarge = trimmed ? this.#bodySizeError(trimmed) : null;
        if (tooLarge) {
            // As for a new message: the edit box stays open with the text, to be shortened (Escape gives up).
            this.editDraft = body;
            $("action-error").textContent = tooLarge;
            return;
        }
        // The edit is given up or sent: a size warning about it goes with it (another error stays).
        if ($("action-error").textContent.startsWith(TOO_LONG)) $("action-error").textContent = "";
        this.editingID = null;
        this.editDraft = null;
        this.render();
        $("composer-input").focus();
        if (!trimmed || trimmed === message.body) return;
        // Not stored (offline, refused): the edit box comes back with what was typed, unless another was opened.
        if (!(await this.#act("edit", { messageID: message.id, body: trimmed })) && this.editingID === null) {
            this.editingID = message.id;
            this.editDraft = trimmed;
            this.render();
        }
    }

    // MARK: Rendering

    render() {
        if (this.renderQueued || this.stopped) return;
        this.renderQueued = true;
        queueMicrotask(() => this.#renderNow());
    }

    #renderNow() {
        this.renderQueued = false;
        if (this.stopped) return;
        this.#renderList();
        this.#renderStray();
        this.#renderConversation();
    }

    #sortedConversations() {
        const activity = (state) => state.lastMessage?.createdAt ?? state.conversation.createdAt ?? 0;
        return [...this.conversations.values()].sort((a, b) => activity(b) - activity(a));
    }

    #presenceDot(userID, { withLabel = true } = {}) {
        const online = this.presence.get(userID)?.isOnline === true;
        const label = online ? "online" : "offline";
        return h("span", {
            class: `presence ${label}`,
            role: withLabel ? "img" : null,
            "aria-label": withLabel ? label : null,
            "aria-hidden": withLabel ? null : "true",
            title: label,
            dataset: { userId: userID },
        });
    }

    #renderList() {
        const list = $("conversation-list");
        const items = this.#sortedConversations().map((state) => {
            const id = state.conversation.id;
            const other = state.conversation.kind === "direct" ? this.#otherMember(state) : null;
            const typingNames = [...state.typing.keys()].map((userID) => this.#isolatedName(userID));
            const preview = typingNames.length
                ? `${typingNames.join(", ")} typing…`
                : state.lastMessage
                  ? state.lastMessage.deletedAt
                      ? "Message deleted"
                      : `${state.lastMessage.senderID === this.me.id ? "You: " : ""}${state.lastMessage.body}`
                  : "No messages yet";
            const unread = id === this.openID ? 0 : state.unreadCount;
            const online = other ? this.presence.get(other)?.isOnline === true : null;
            // Redraw an item only when what it shows changed, so focus, hover and references to it survive.
            const signature = JSON.stringify([this.#title(state), preview, unread, id === this.openID, online]);
            const known = this.listNodes.get(id);
            if (known?.dataset.signature === signature) return known;
            const item = h(
                "li",
                {},
                h(
                    "button",
                    {
                        type: "button",
                        class: "conversation-item",
                        "aria-current": id === this.openID ? "true" : null,
                        dataset: { conversationId: id, kind: state.conversation.kind },
                        onclick: () => this.#open(id),
                    },
                    other ? this.#presenceDot(other) : h("span", { class: "presence group", "aria-hidden": "true" }),
                    h(
                        "span",
                        { class: "item-text" },
                        h("span", { class: "item-title" }, this.#title(state)),
                        h("span", { class: `item-preview${typingNames.length ? " typing" : ""}` }, preview),
                    ),
                    unread > 0
                        ? h(
                              "span",
                              { class: "badge", "aria-label": `${unread >= 1000 ? "1000 or more" : unread} unread` },
                              unread > 99 ? "99+" : unread,
                          )
                        : null,
                ),
            );
            item.dataset.signature = signature;
            this.listNodes.set(id, item);
            return item;
        });
        for (const id of this.listNodes.keys()) if (!this.conversations.has(id)) this.listNodes.delete(id);
        const current = [...list.children];
        if (current.length !== items.length || current.some((node, index) => node !== items[index])) {
            // Keep keyboard focus on the same conversation when its item was redrawn.
            const focusedID = document.activeElement?.dataset?.conversationId;
            list.replaceChildren(...items);
            if (focusedID) list.querySelector(`[data-conversation-id="${CSS.escape(focusedID)}"]`)?.focus();
        }
        $("empty-list").hidden = items.length > 0;
        $("empty-list").textContent = this.listError
            ? `Your conversations could not be loaded: ${this.listError}. The page keeps trying.`
            : "No conversations yet.";
    }

    /**
     * Lists, above the conversations, the failed messages of conversations the page does not show: those the user
     * left or was removed from (here, or while the page was away: the server refused them `notFound`). Drawn nowhere
     * else, they could be neither read again nor discarded, and logging out would count them.
     */
    #renderStray() {
        const stray = this.listRead
            ? [...this.pending.values()]
                  .filter((message) => message.status === "failed" && !this.conversations.has(message.conversationID))
                  .sort((a, b) => a.createdAt - b.createdAt)
            : [];
        const nodes = stray.map((message) => {
            const signature = JSON.stringify([message.status, message.error]);
            let node = this.strayNodes.get(message.clientMessageID);
            if (!node || node.dataset.signature !== signature) {
                node = this.#pendingNode(message, { canRetry: false });
                node.dataset.signature = signature;
                this.strayNodes.set(message.clientMessageID, node);
            }
            return node;
        });
        const shown = new Set(stray.map((message) => message.clientMessageID));
        for (const id of this.strayNodes.keys()) if (!shown.has(id)) this.strayNodes.delete(id);
        const list = $("stray-messages");
        const current = [...list.children];
        if (current.length !== nodes.length || current.some((node, index) => node !== nodes[index])) {
            list.replaceChildren(...nodes);
        }
        $("stray-outbox").hidden = nodes.length === 0;
    }

    #renderConversation() {
        const state = this.conversations.get(this.openID);
        const title = $("conversation-title");
        const presence = $("conversation-presence");
        if (!state) {
            if (!this.openID) $("messages").replaceChildren();
            title.textContent = this.openID ? "Loading…" : "Pick a conversation";
            presence.hidden = true;
            $("history-error").hidden = true;
            $("typing-indicator").textContent = "";
            $("load-older").hidden = true;
            return;
        }
        title.textContent = this.#title(state);
        const other = state.conversation.kind === "direct" ? this.#otherMember(state) : null;
        if (other) {
            const online = this.presence.get(other)?.isOnline === true;
            presence.hidden = false;
            presence.className = `presence ${online ? "online" : "offline"}`;
            presence.setAttribute("role", "img");
            presence.setAttribute("aria-label", online ? "online" : "offline");
            presence.title = online ? "online" : "offline";
        } else {
            presence.hidden = true;
        }
        const typingNames = [...state.typing.keys()].map((userID) => this.#isolatedName(userID));
        const typingText =
            typingNames.length === 0
                ? ""
                : typingNames.length === 1
                  ? `${typingNames[0]} is typing…`
                  : `${typingNames.join(", ")} are typing…`;
        if ($("typing-indicator").textContent !== typingText) $("typing-indicator").textContent = typingText;
        $("load-older").hidden = !state.hasOlder;
        const failed = !state.loaded && state.loadError !== null;
        $("history-error").hidden = !failed;
        if (failed) $("history-error-text").textContent = `The messages could not be loaded: ${state.loadError}`;
        this.#renderMessages(state);
    }

    #renderMessages(state) {
        const scroller = $("message-scroller");
        const stick = isAtBottom(scroller);
        const list = $("messages");
        this.messageNodes ??= new Map();
        const messages = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
        const pending = [...this.pending.values()]
            .filter((message) => message.conversationID === state.conversation.id)
            .sort((a, b) => a.createdAt - b.createdAt);
        const lastMine = messages.findLast((message) => message.senderID === this.me.id && !message.deletedAt);
        const nodes = [];
        const keep = new Set();
        let previousSender = null;
        for (const message of messages) {
            const receipt = message === lastMine ? this.#receipt(state, message) : "";
            const continued = previousSender === message.senderID;
            previousSender = message.senderID;
            const editing = this.editingID === message.id;
            const key = `m:${message.id}`;
            const signature = JSON.stringify([
                message.body,
                message.editedAt,
                message.deletedAt,
                (message.reactions ?? []).map((reaction) => [reaction.emoji, reaction.userID]),
                receipt,
                continued,
                editing,
                this.#name(message.senderID),
            ]);
            keep.add(key);
            let node = this.messageNodes.get(key);
            if (!node || node.dataset.signature !== signature) {
                node = this.#messageNode(state, message, { receipt, continued, editing });
                node.dataset.signature = signature;
                this.messageNodes.set(key, node);
            }
            nodes.push(node);
        }
        for (const message of pending) {
            const key = `p:${message.clientMessageID}`;
            const signature = JSON.stringify([message.status, message.error]);
            keep.add(key);
            let node = this.messageNodes.get(key);
            if (!node || node.dataset.signature !== signature) {
                node = this.#pendingNode(message);
                node.dataset.signature = signature;
                this.messageNodes.set(key, node);
            }
            nodes.push(node);
        }
        for (const key of this.messageNodes.keys()) if (!keep.has(key)) this.messageNodes.delete(key);
        // Replace only what changed, so focus inside an unchanged message survives.
        const current = [...list.children];
        if (current.length !== nodes.length || current.some((node, index) => node !== nodes[index])) {
            const focused = document.activeElement;
            list.replaceChildren(...nodes);
            if (focused && focused !== document.body && !document.contains(focused)) {
                // The focused control's message was redrawn: return focus to the same control if it still exists.
                const owner = focused.closest?.("li.message");
                const replacement = owner?.id ? document.getElementById(owner.id) : null;
                const same = focused.id
                    ? document.getElementById(focused.id)
                    : replacement?.querySelector(`[data-action="${CSS.escape(focused.dataset?.action ?? "")}"]`);
                (same ?? replacement?.querySelector("button"))?.focus();
            }
        }
        if (stick) scroller.scrollTop = scroller.scrollHeight;
    }

    #receipt(state, message) {
        // Channels and groups past 100 members send no live receipts (only the reader's own devices get them):
        // what was read when the conversation opened would soon be stale, so none is shown.
        if (state.conversation.kind === "channel" || (state.memberIDs ?? []).length > MAX_MEMBERS_SHARING_MARKERS) {
            return "";
        }
        const others = (state.memberIDs ?? []).filter((id) => id !== this.me.id);
        const markers = others.map((id) => state.markers.get(id)).filter(Boolean);
        const read = markers.filter((marker) => marker.readSeq >= message.seq).length;
        const delivered = markers.filter((marker) => marker.deliveredSeq >= message.seq).length;
        if (state.conversation.kind === "direct" || others.length <= 1) {
            if (read > 0) return "Read";
            if (delivered > 0) return "Delivered";
            return "Sent";
        }
        if (read > 0) return read === others.length ? "Read by everyone" : `Read by ${read} of ${others.length}`;
        return delivered > 0 ? "Delivered" : "Sent";
    }

    #messageNode(state, message, { receipt, continued, editing }) {
        const mine = message.senderID === this.me.id;
        const deleted = Boolean(message.deletedAt);
        const classes = ["message", mine ? "mine" : "theirs", deleted ? "deleted" : "", continued ? "continued" : ""];
        const sender = this.#name(message.senderID);
        const isolatedSender = this.#isolatedName(message.senderID);
        let body;
        if (deleted) {
            body = h("p", { class: "body" }, h("em", {}, "Message deleted"));
        } else if (editing) {
            // A text area, as the message box is: a one-line input would drop the text's line breaks.
            const text = this.editDraft ?? message.body;
            const input = h(
                "textarea",
                {
                    id: `edit-${message.id}`,
                    "aria-label": "Edit message",
                    rows: Math.min(6, text.split("\n").length),
                    oninput: () => {
                        this.editDraft = input.value;
                        this.#sayIfTooLarge(input.value);
                    },
                    onkeydown: (event) => {
                        if (event.key === "Escape") {
                            this.#finishEdit(message, null);
                        } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
                            // As in the message box: Enter saves, Shift+Enter starts a new line.
                            event.preventDefault();
                            this.#finishEdit(message, input.value);
                        }
                    },
                },
                text,
            );
            body = h(
                "form",
                {
                    class: "edit-form",
                    onsubmit: (event) => {
                        event.preventDefault();
                        this.#finishEdit(message, input.value);
                    },
                },
                input,
                h("button", { type: "submit", class: "small primary" }, "Save"),
                h(
                    "button",
                    { type: "button", class: "small", onclick: () => this.#finishEdit(message, null) },
                    "Cancel",
                ),
            );
        } else {
            body = h("p", { class: "body" }, message.body);
        }
        const groups = new Map();
        for (const reaction of message.reactions ?? []) {
            const group = groups.get(reaction.emoji) ?? { count: 0, mine: false };
            group.count += 1;
            group.mine ||= reaction.userID === this.me.id;
            groups.set(reaction.emoji, group);
        }
        const reactions =
            groups.size && !deleted
                ? h(
                      "div",
                      { class: "reactions", role: "group", "aria-label": "Reactions" },
                      [...groups].map(([emoji, group]) =>
                          h(
                              "button",
                              {
                                  type: "button",
                                  class: "reaction small",
                                  "aria-pressed": group.mine ? "true" : "false",
                                  "aria-label": `${emoji} ${group.count}${group.mine ? ", including you" : ""}`,
                                  dataset: { action: `reaction-${emoji}`, emoji },
                                  onclick: () => this.#toggleReaction(message, emoji),
                              },
                              `${emoji} ${group.count}`,
                          ),
                      ),
                  )
                : null;
        const picker = h(
            "div",
            { class: "picker", role: "group", "aria-label": "Add a reaction", hidden: true },
            REACTIONS.map((emoji) =>
                h(
                    "button",
                    {
                        type: "button",
                        class: "small",
                        "aria-label": `React with ${emoji}`,
                        dataset: { action: `pick-${emoji}`, emoji },
                        onclick: () => {
                            picker.hidden = true;
                            this.#toggleReaction(message, emoji);
                        },
                    },
                    emoji,
                ),
            ),
        );
        const actions =
            deleted || editing
                ? null
                : h(
                      "div",
                      { class: "actions" },
                      h(
                          "button",
                          {
                              type: "button",
                              class: "small link",
                              "aria-expanded": "false",
                              "aria-label": `React to ${mine ? "your" : `${isolatedSender}'s`} message`,
                              dataset: { action: "react" },
                              onclick: (event) => {
                                  picker.hidden = !picker.hidden;
                                  event.currentTarget.setAttribute("aria-expanded", String(!picker.hidden));
                                  if (!picker.hidden) picker.querySelector("button").focus();
                              },
                          },
                          "React",
                      ),
                      mine
                          ? h(
                                "button",
                                {
                                    type: "button",
                                    class: "small link",
                                    dataset: { action: "edit" },
                                    onclick: () => this.#startEdit(message),
                                },
                                "Edit",
                            )
                          : null,
                      mine
                          ? h(
                                "button",
                                {
                                    type: "button",
                                    class: "small link danger",
                                    dataset: { action: "delete" },
                                    onclick: () => this.#act("delete", { messageID: message.id }),
                                },
                                "Delete",
                            )
                          : null,
                  );
        return h(
            "li",
            {
                class: classes.filter(Boolean).join(" "),
                id: `message-${message.id}`,
                dataset: { seq: message.seq, sender: message.senderID, clientMessageId: message.clientMessageID },
            },
            h(
                "div",
                { class: "meta" },
                h("span", { class: "sender" }, mine ? "You" : sender),
                " ",
                timeElement(message.createdAt),
                message.editedAt && !deleted ? h("span", { class: "edited" }, " (edited)") : null,
            ),
            body,
            reactions,
            actions,
            picker,
            receipt ? h("p", { class: "receipt", dataset: { receipt } }, receipt) : null,
        );
    }

    /** A message of the outbox; `canRetry: false` leaves out Retry (one whose conversation the user left). */
    #pendingNode(message, { canRetry = true } = {}) {
        const failed = message.status === "failed";
        return h(
            "li",
            {
                class: `message mine ${failed ? "failed" : "pending"}`,
                dataset: { clientMessageId: message.clientMessageID, status: message.status },
            },
            h("div", { class: "meta" }, h("span", { class: "sender" }, "You"), " ", timeElement(message.createdAt)),
            h("p", { class: "body" }, message.body),
            failed
                ? h(
                      "p",
                      { class: "receipt failed", role: "alert" },
                      `Not sent${message.error ? `: ${message.error}` : ""} `,
                      canRetry
                          ? h(
                                "button",
                                {
                                    type: "button",
                                    class: "small",
                                    dataset: { action: "retry" },
                                    onclick: () => this.#retry(message),
                                },
                                "Retry",
                            )
                          : null,
                      canRetry ? " " : null,
                      h(
                          "button",
                          {
                              type: "button",
                              class: "small",
                              dataset: { action: "discard" },
                              onclick: () => this.#discard(message),
                          },
                          "Discard",
                      ),
                  )
                : h("p", { class: "receipt pending", dataset: { receipt: "Sending" } }, "Sending…"),
        );
    }
}
