// ChatKit web chat: the realtime protocol over WebSocket (Documentation/Protocol.md).
//
// A ChatConnection keeps one socket open: it says `hello` with an access token (and, after the first session,
// the cursor of the last event it processed), reconnects by itself with exponential backoff, and answers each
// request's promise with its `result` or `error`. It dispatches:
//   "status"   detail: {state: "connecting" | "syncing" | "online" | "offline", retryInMs?, reason?, final?}
//              (`final`: the server refused the session for a reason that trying again cannot change, such as no
//              shared protocol version; the connection stops)
//   "welcome"  detail: the welcome frame (user, limits, position)
//   "event"    detail: a stored event (live, or from catch-up)
//   "synced"   detail: {cursor, resumed}: catch-up is over; `resumed` is false on the first session
//   "rewound"  detail: the welcome frame: the server no longer has the events up to our cursor (a restored
//              database); what the page shows must be loaded again (`synced` follows with `resumed` false)
//   "presence", "typing": detail: the frame
//   "signedout": the login has ended (refresh refused); the connection stops.

const PROTOCOL_VERSION = 1;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** How long a connection stays online before the next reconnect starts the backoff again. */
const STAYED_ONLINE_MS = 10_000;
// A request not answered within this is failed with `unavailable`. Only a ping's says the socket is dead (and it is
// given up): a slow store may take this long over a history or a search, and the socket is fine.
const REQUEST_TIMEOUT_MS = 15_000;
// A socket not online (welcome and catch-up done) this long after it was opened is dropped and opened again: one
// that died silently before its session opened would otherwise leave the page "Connecting…" indefinitely (pings
// start only once online). Catch-up resumes from the events already handled.
const SESSION_OPEN_TIMEOUT_MS = 30_000;
// Browsers do not expose WebSocket pings: a `ping` request this often finds a dead socket (its answer times out).
const PING_INTERVAL_MS = 25_000;

/**
 * A refused request: `code` is one of the protocol's error codes (`unavailable` when the socket dropped or no answer
 * came in time). `answered`: the server sent this error (not the page, for a dropped socket or a timeout).
 */
export class RequestError extends Error {
    constructor(code, message, retryAfterMilliseconds, answered = false) {
        super(message || code);
        this.code = code;
        this.retryAfterMilliseconds = retryAfterMilliseconds;
        this.answered = answered;
    }
}

export class ChatConnection extends EventTarget {
    /**
     * @param {object} options
     * @param {string} options.url  the WebSocket URL, e.g. ws://host/v1/ws
     * @param {(force: boolean) => Promise<string>} options.accessToken  returns a valid access token
     */
    constructor({ url, accessToken }) {
        super();
        this.url = url;
        this.getAccessToken = accessToken;
        this.socket = null;
        this.state = "offline";
        this.cursor = null; // the position of the last event processed; null before the first welcome
        this.limits = null;
        this.nextID = 1;
        this.pending = new Map(); // request id -> {resolve, reject, timer}
        this.attempt = 0;
        /** When the current connection synced (ms), or null. */
        this.onlineSince = null;
        this.retryTimer = null;
        this.retryNotBefore = 0; // no reconnection before this time (ms): the server asked to wait (retryAfter)
        this.pingTimer = null;
        this.socketClosed = null; // gives up the current socket (see #connect)
        this.stopped = true;
        this.forceRefresh = false;
        this.hadSession = false;
    }

    /** Starts connecting; reconnects by itself until `stop()`. */
    start() {
        if (!this.stopped) return;
        this.stopped = false;
        window.addEventListener("online", this.#onBrowserOnline);
        this.#connect();
    }

    /** Closes the socket and stops reconnecting. */
    stop() {
        this.stopped = true;
        window.removeEventListener("online", this.#onBrowserOnline);
        clearTimeout(this.retryTimer);
        clearInterval(this.pingTimer);
        const socket = this.socket;
        this.socket = null;
        if (socket) socket.close(1000, "bye");
        this.#failPending("The connection was closed.");
        this.#setState("offline");
    }

    get isOnline() {
        return this.state === "online";
    }

    /**
     * Sends a request and resolves with its `result` frame; rejects with a RequestError.
     * Requests are refused with `unavailable` while the session is not online (after `synced`).
     */
    request(type, fields = {}) {
        if (this.state !== "online" || !this.socket) {
            return Promise.reject(new RequestError("unavailable", "Not connected."));
        }
        const id = String(this.nextID++);
        return this.#send({ type, id, ...fields });
    }

    #send(frame) {
        const socket = this.socket;
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(frame.id);
                reject(new RequestError("unavailable", "The server did not answer in time."));
                // An unanswered ping: a silent socket, start over. (Another request may just be slow: an answer
                // that comes after all is ignored.)
                if (frame.type === "ping") this.#abandon(socket);
            }, REQUEST_TIMEOUT_MS);
            this.pending.set(frame.id, { resolve, reject, timer });
            try {
                this.socket.send(JSON.stringify(frame));
            } catch {
                clearTimeout(timer);
                this.pending.delete(frame.id);
                reject(new RequestError("unavailable", "Not connected."));
            }
        });
    }

    #onBrowserOnline = () => {
        // The network is back: try now instead of waiting out the backoff (not the wait the server asked for).
        if (!this.stopped && this.state === "offline" && Date.now() >= this.retryNotBefore) {
            clearTimeout(this.retryTimer);
            this.#connect();
        }
    };

    #setState(state, extra = {}) {
        this.state = state;
        this.dispatchEvent(new CustomEvent("status", { detail: { state, ...extra } }));
    }

    async #connect() {
        if (this.stopped) return;
        this.#setState("connecting");
        let token;
        try {
            token = await this.getAccessToken(this.forceRefresh);
            this.forceRefresh = false;
        } catch (error) {
            if (error.code === "unauthenticated" || error.code === "notFound") {
                this.#signedOut();
            } else {
                this.#scheduleReconnect();
            }
            return;
        }
        if (this.stopped) return;
        let socket;
        try {
            socket = new WebSocket(this.url);
        } catch {
            this.#scheduleReconnect();
            return;
        }
        this.socket = socket;
        const helloID = `hello-${this.nextID++}`;
        let helloRefused = null;
        // The server's reason for refusing the session, shown while the page tries again.
        let refusal = null;
        // How long the server asks to wait before trying again (a rate or connection limit), in ms.
        let retryAfter = 0;
        // The `goodbye` after a refused hello: `protocolError` when no version is shared (trying again cannot help).
        let goodbye = null;
        const openDeadline = setTimeout(() => {
            if (this.state !== "online") this.#abandon(socket);
        }, SESSION_OPEN_TIMEOUT_MS);

        socket.addEventListener("open", () => {
            const hello = { type: "hello", id: helloID, versions: [PROTOCOL_VERSION], token };
            if (this.cursor !== null) hello.cursor = this.cursor;
            socket.send(JSON.stringify(hello));
        });

        socket.addEventListener("message", (message) => {
            if (socket !== this.socket) return;
            let frame;
            try {
                frame = JSON.parse(typeof message.data === "string" ? message.data : "");
            } catch {
                console.warn("ChatKit: an unreadable frame from the server");
                return;
            }
            if (frame.type === "error" && frame.id === helloID) {
                helloRefused = frame.code;
                refusal = typeof frame.message === "string" ? frame.message : frame.code;
                if (Number.isSafeInteger(frame.retryAfterMilliseconds)) retryAfter = frame.retryAfterMilliseconds;
                return;
            }
            if (frame.type === "goodbye" && helloRefused !== null) {
                goodbye = frame.reason;
                return;
            }
            this.#handle(frame);
        });

        // At the socket's `close` event, or sooner when the page gives it up (#abandon). Either way, whichever comes
        // second finds another socket current (or none) and changes nothing.
        const closed = () => {
            clearTimeout(openDeadline);
            if (socket !== this.socket) return;
            this.socket = null;
            clearInterval(this.pingTimer);
            this.#failPending("The connection closed before the server answered.");
            if (this.stopped) return;
            if (helloRefused === "unauthenticated") {
                // The access token was refused (expired or revoked): refresh it once, then try again.
                if (this.refusedOnce) {
                    this.#signedOut();
                    return;
                }
                this.refusedOnce = true;
                this.forceRefresh = true;
                refusal = null;
            } else if (goodbye === "protocolError" || (goodbye === null && helloRefused === "invalidArgument")) {
                // No shared protocol version (or a hello this server cannot read): the same hello is refused
                // however often it is sent. Said, and not tried again until the page is loaded again. (Another
                // refusal, with goodbye `error`, is a session that could not be opened this time: tried again.)
                this.stop();
                this.#setState("offline", { reason: refusal, final: true });
                return;
            }
            this.#scheduleReconnect(refusal, retryAfter);
        };
        this.socketClosed = closed;
        socket.addEventListener("close", closed);
    }

    /**
     * Gives up `socket`, found dead (a request, such as a ping, or the session's opening not answered), if it is
     * still the current one: the page says at once that it is offline, and reconnects. On a dead network the browser
     * fires `close` only when its closing handshake times out, 20 to 60 s after `close()`, and the page would say
     * "Online" until then.
     */
    #abandon(socket) {
        if (socket !== this.socket) return;
        socket.close(4000, "timeout");
        this.socketClosed();
    }

    #handle(frame) {
        switch (frame.type) {
            case "welcome":
                this.limits = frame.limits;
                this.refusedOnce = false;
                this.resuming = this.hadSession && this.cursor !== null;
                const rewoundTo = frame.rewoundTo ?? (this.cursor !== null && frame.position < this.cursor ? frame.position : null);
                if (this.cursor !== null && rewoundTo !== null && rewoundTo < this.cursor) {
                    // The server no longer has the events up to our cursor (a restored database): go on from where it
                    // says, or the events it stores would be taken for ones already seen; the page reloads what it
                    // shows.
                    this.cursor = rewoundTo;
                    this.resuming = false;
                    this.dispatchEvent(new CustomEvent("rewound", { detail: frame }));
                }
                if (this.cursor === null) this.cursor = frame.position;
                this.#setState("syncing");
                this.dispatchEvent(new CustomEvent("welcome", { detail: frame }));
                break;
            case "synced": {
                this.cursor = Math.max(this.cursor ?? 0, frame.cursor);
                this.onlineSince = Date.now();
                const resumed = this.resuming;
                this.hadSession = true;
                this.#startPings();
                this.#setState("online");
                this.dispatchEvent(new CustomEvent("synced", { detail: { cursor: this.cursor, resumed } }));
                break;
            }
            case "event":
                if (frame.event) {
                    if (this.cursor === null || frame.event.position > this.cursor) this.cursor = frame.event.position;
                    this.dispatchEvent(new CustomEvent("event", { detail: frame.event }));
                }
                break;
            case "result":
            case "error": {
                const waiter = frame.id === undefined ? undefined : this.pending.get(frame.id);
                if (!waiter) {
                    if (frame.type === "error") console.warn("ChatKit: server error", frame.code, frame.message);
                    return;
                }
                this.pending.delete(frame.id);
                clearTimeout(waiter.timer);
                if (frame.type === "result") waiter.resolve(frame);
                else waiter.reject(new RequestError(frame.code, frame.message, frame.retryAfterMilliseconds, true));
                break;
            }
            case "presence":
            case "typing":
                this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
                break;
            case "goodbye":
                // The server closes next; the close handler reconnects (or signs out after a refused token).
                break;
            default:
                // Unknown frame types are ignored, as the protocol asks.
                break;
        }
    }

    #startPings() {
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => {
            if (this.state === "online") this.request("ping").catch(() => {});
        }, PING_INTERVAL_MS);
    }

    #failPending(message) {
        for (const [id, waiter] of this.pending) {
            clearTimeout(waiter.timer);
            waiter.reject(new RequestError("unavailable", message));
            this.pending.delete(id);
        }
    }

    /** Connects again after the backoff, or after `retryAfter` ms (the server's ask) when that is longer. */
    #scheduleReconnect(reason = null, retryAfter = 0) {
        if (this.stopped) return;
        // The backoff starts again after a connection that stayed online a while, not after any that synced: a
        // server closing every session just after its sync would otherwise be asked again every half second.
        if (this.onlineSince !== null && Date.now() - this.onlineSince >= STAYED_ONLINE_MS) this.attempt = 0;
        this.onlineSince = null;
        const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
        const delay = Math.max(retryAfter, Math.round(base / 2 + Math.random() * (base / 2)));
        this.attempt += 1;
        this.retryNotBefore = Date.now() + retryAfter;
        this.#setState("offline", reason ? { retryInMs: delay, reason } : { retryInMs: delay });
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.#connect(), delay);
    }

    #signedOut() {
        this.stop();
        this.dispatchEvent(new CustomEvent("signedout"));
    }
}
