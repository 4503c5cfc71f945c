// ChatKit web chat: accounts over HTTP (Documentation/Protocol.md, "HTTP endpoints") and the stored login.
//
// The tokens live in sessionStorage: they survive a reload of this tab but not the tab itself, and two tabs
// never race to rotate the same refresh token.

const STORAGE_KEY = "chatkit.session";
// Refresh the access token when it has less than this left.
const REFRESH_MARGIN_MS = 60_000;

/** An HTTP answer that is not a success: `code` is one of the protocol's error codes. */
export class HTTPError extends Error {
    constructor(status, code, message) {
        super(message || code || `HTTP ${status}`);
        this.status = status;
        this.code = code || "unavailable";
    }
}

async function post(path, body, headers = {}) {
    let response;
    try {
        response = await fetch(path, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...headers },
            body: body === undefined ? undefined : JSON.stringify(body),
            credentials: "omit",
            cache: "no-store",
        });
    } catch {
        throw new HTTPError(0, "unavailable", "The server cannot be reached. Check your connection and try again.");
    }
    if (response.status === 204) return null;
    let json = null;
    try {
        json = await response.json();
    } catch {
        // Not JSON: fall through with the status alone.
    }
    if (!response.ok) {
        throw new HTTPError(response.status, json?.code, json?.message);
    }
    return json;
}

/**
 * The signed-in user's tokens: `accessToken`, `refreshToken`, `accessTokenExpiresAt` (ms), `user`.
 * `load()` returns the stored one or null.
 */
export class Session {
    constructor(tokens) {
        this.tokens = tokens;
        this.refreshing = null;
    }

    static load() {
        try {
            const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
            if (stored?.refreshToken && stored?.user?.id) return new Session(stored);
        } catch {
            // A damaged entry: start signed out.
        }
        return null;
    }

    static async signUp(username, password, displayName) {
        const body = { username, password };
        if (displayName) body.displayName = displayName;
        return Session.#store(await post("/v1/auth/signup", body));
    }

    static async logIn(username, password) {
        return Session.#store(await post("/v1/auth/login", { username, password }));
    }

    static #store(tokens) {
        const session = new Session(tokens);
        session.#save();
        return session;
    }

    #save() {
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.tokens));
    }

    get user() {
        return this.tokens.user;
    }

    /**
     * An access token that is valid for a while yet, refreshing it first when needed (or when `force`).
     * Throws an HTTPError with code `unauthenticated` when the login has ended.
     */
    async accessToken({ force = false } = {}) {
        const expiresAt = Number(this.tokens.accessTokenExpiresAt) || 0;
        if (!force && expiresAt - Date.now() > REFRESH_MARGIN_MS) return this.tokens.accessToken;
        // One refresh at a time: the refresh token rotates, so a second concurrent one would be refused.
        this.refreshing ??= (async () => {
            try {
                const tokens = await post("/v1/auth/refresh", { refreshToken: this.tokens.refreshToken });
                this.tokens = tokens;
                this.#save();
                return tokens.accessToken;
            } finally {
                this.refreshing = null;
            }
        })();
        return this.refreshing;
    }

    /** Ends the login on the server (best effort) and forgets it here. */
    async logOut() {
        let token = this.tokens.accessToken;
        try {
            token = await this.accessToken();
        } catch {
            // Use the one we have.
        }
        this.forget();
        try {
            await post("/v1/auth/logout", undefined, { Authorization: `Bearer ${token}` });
        } catch {
            // Already expired or offline: the tokens are gone from this tab either way.
        }
    }

    forget() {
        sessionStorage.removeItem(STORAGE_KEY);
    }
}
