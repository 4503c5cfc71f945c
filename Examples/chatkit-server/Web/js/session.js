// ChatKit web chat: accounts over HTTP (Documentation/Protocol.md, "HTTP endpoints") and the stored login.
//
// The tokens live in sessionStorage: they survive a reload of this tab but not the tab itself, and two tabs
// never race to rotate the same refresh token. A tab duplicated from another (or opened from it) starts with a
// copy of its sessionStorage, tokens included: `claim()` tells such a copy (claims.js), and the copy starts
// signed out.

import { claimLogin } from "./claims.js";

const STORAGE_KEY = "chatkit.session";
// Refresh the access token when it has less than this left.
const REFRESH_MARGIN_MS = 60_000;
// How long an account request may take before the page gives up on it (a sign-up or login waits for bcrypt).
const REQUEST_TIMEOUT_MS = 20_000;
// How long a password change may take before the page gives up on it (and says its outcome is unknown).
const PASSWORD_CHANGE_TIMEOUT_MS = 120_000;
// A refresh that got no answer (status 0: no network, or the time limit; or a proxy's 502, 503 or 504) may have been
// made, its answer lost: the server rotated the token, and answers the old one again only within 30 s of rotating it
// (Documentation/HTTP.md, "Accounts"); presented later, it ends the login. So such a refresh is tried again soon,
// here, after these waits (not after the connection's backoff, up to 15 s), as long as the retry goes out within
// REFRESH_RETRY_WITHIN_MS of the first attempt (the rotation came after that was sent): time enough is left for it
// to reach the server. A refresh checks no password, so its time limit is shorter than other requests'.
const REFRESH_RETRY_DELAYS_MS = [1_000, 2_000, 4_000];
const REFRESH_RETRY_WITHIN_MS = 20_000;
const REFRESH_TIMEOUT_MS = 8_000;

/** An HTTP answer that is not a success: `code` is one of the protocol's error codes. */
export class HTTPError extends Error {
    constructor(status, code, message) {
        super(message || code || `HTTP ${status}`);
        this.status = status;
        this.code = code || "unavailable";
    }
}

async function post(path, body, headers = {}, options = {}) {
    let response;
    try {
        response = await fetch(path, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...headers },
            body: body === undefined ? undefined : JSON.stringify(body),
            credentials: "omit",
            cache: "no-store",
            // A request on a connection that died (a laptop's sleep, a network change) would wait minutes, and
            // the page with it ("Connecting…"): given up after a while, it is tried again like an unreachable one.
            // (Browsers without AbortSignal.timeout wait as before.)
            signal: AbortSignal.timeout?.(REQUEST_TIMEOUT_MS),
            ...options,
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
        // `loginID` names this login in this browser (the lock of `claim()`); it outlives token refreshes.
        // (crypto.randomUUID needs a secure context; a page served over plain HTTP to another host has none.)
        const loginID = tokens.loginID ?? crypto.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
        this.tokens = { ...tokens, loginID };
        this.refreshing = null;
        this.changingPassword = null;
        this.releaseClaim = null;
    }

    static load() {
        try {
            const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
            if (stored?.refreshToken && stored?.user?.id) {
                const session = new Session(stored);
                if (!stored.loginID) session.#save(); // a login stored before login IDs: named from now on
                return session;
            }
        } catch {
            // A damaged entry: start signed out.
        }
        return null;
    }

    /**
     * Claims the login for this page: true when no other live page holds it, false when this page is a copy of
     * one that does (its refresh token rotates there; refreshing it here too would make the server end the
     * login for both). Held until the page goes away or logs out (see claims.js).
     */
    async claim() {
        if (this.releaseClaim) return true;
        this.releaseClaim = await claimLogin(this.tokens.loginID);
        return this.releaseClaim !== null;
    }

    /** Lets another page claim the login (this one goes into the back/forward cache); `claim()` takes it back. */
    unclaim() {
        this.releaseClaim?.();
        this.releaseClaim = null;
    }

    /**
     * Gives the login up in this page, which goes into the back/forward cache and reloads if shown again: a page
     * opened in its place in the tab may refresh the login meanwhile (rotating its refresh token) or log out of it.
     * A refresh of this page's that waits to be tried again is not (presenting the old refresh token would make the
     * server end the login for both), and one whose answer comes late stores nothing.
     */
    abandon() {
        this.abandoned = true;
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
        Session.#checkTokens(tokens);
        const session = new Session(tokens);
        session.#save();
        return session;
    }

    /** Throws unless `tokens` is what the account endpoints answer (a proxy's empty 200 is not). */
    static #checkTokens(tokens) {
        if (typeof tokens?.accessToken !== "string" || typeof tokens?.refreshToken !== "string" || !tokens.user?.id) {
            throw new HTTPError(502, "unavailable", "The server's answer held no tokens. Try again in a moment.");
        }
    }

    #save() {
        // A refresh that ends after logging out must not store the old login again (for the next user of the tab), nor
        // one that ends after this page gave the login up (the tab's page in its place may have newer tokens).
        if (this.forgotten || this.abandoned) return;
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
        // A password change ends this session too (the server closes its socket at once): the tokens to use are
        // those it answers, not a refresh of the old ones, which the server refuses (and the page would sign out).
        while (this.changingPassword) await this.changingPassword;
        return this.#currentAccessToken(force);
    }

    /** The access token, refreshed first when it expires soon or when `force` (not waiting for a password change). */
    async #currentAccessToken(force) {
        const expiresAt = Number(this.tokens.accessTokenExpiresAt) || 0;
        if (!force && expiresAt - Date.now() > REFRESH_MARGIN_MS) return this.tokens.accessToken;
        // One refresh at a time: the refresh token rotates, so a second concurrent one would be refused.
        this.refreshing ??= (async () => {
            try {
                const tokens = await this.#refresh(this.tokens.refreshToken);
                Session.#checkTokens(tokens);
                this.tokens = { ...tokens, loginID: this.tokens.loginID };
                this.#save();
                return tokens.accessToken;
            } finally {
                this.refreshing = null;
            }
        })();
        return this.refreshing;
    }

    /** Exchanges `refreshToken` for new tokens, trying again soon when no answer came (see REFRESH_RETRY_DELAYS_MS). */
    async #refresh(refreshToken) {
        const firstSentAt = Date.now();
        for (let attempt = 0; ; attempt++) {
            try {
                return await post("/v1/auth/refresh", { refreshToken }, {},
                    { signal: AbortSignal.timeout?.(REFRESH_TIMEOUT_MS) });
            } catch (error) {
                const wait = REFRESH_RETRY_DELAYS_MS[attempt];
                const unanswered = error.status === 0 || [502, 503, 504].includes(error.status);
                if (!unanswered || wait === undefined || this.loggingOut || this.forgotten
                    || Date.now() + wait - firstSentAt > REFRESH_RETRY_WITHIN_MS) {
                    throw error;
                }
                console.warn(`ChatKit: the refresh got no answer; trying again in ${wait} ms`, error);
                await new Promise((resolve) => setTimeout(resolve, wait));
                // Checked again after the wait: a page frozen in the back/forward cache wakes up here much later.
                if (this.loggingOut || this.forgotten || this.abandoned
                    || Date.now() - firstSentAt > REFRESH_RETRY_WITHIN_MS) {
                    throw error;
                }
            }
        }
    }

    /**
     * Changes the password: every other session of the user ends, and this page goes on with the new session the
     * server answers. Throws an HTTPError (a wrong current password: `unauthenticated`; a new one that breaks a
     * rule: `invalidArgument`), or an Error when the page signed out before the change was sent (not sent then).
     */
    async changePassword(currentPassword, newPassword) {
        while (this.changingPassword) await this.changingPassword; // one change at a time (a second submit)
        if (this.forgotten || this.loggingOut) throw new Error("The page signed out before the change was sent.");
        let finished;
        this.changingPassword = new Promise((resolve) => (finished = resolve));
        try {
            try {
                await this.refreshing; // a refresh finishing after the change would store the old session's tokens
            } catch {
                // The change below says what is wrong, if anything.
            }
            // Signed out while it waited: the password is not changed behind the user's back.
            if (this.forgotten || this.loggingOut) throw new Error("The page signed out before the change was sent.");
            const bearer = await this.#currentAccessToken(false); // not accessToken(): it waits for this change
            if (this.forgotten || this.loggingOut) throw new Error("The page signed out before the change was sent.");
            // A longer time limit than other requests' (two bcrypt checks on a busy server): given up on while the
            // server finishes it, the change leaves this page with the tokens of a session it ended (the page says
            // so), and without one, a dead connection would hold this page's reconnection for minutes.
            const tokens = await post("/v1/auth/password", { currentPassword, newPassword },
                { Authorization: `Bearer ${bearer}` }, { signal: AbortSignal.timeout?.(PASSWORD_CHANGE_TIMEOUT_MS) });
            Session.#checkTokens(tokens);
            if (this.forgotten) {
                // Signed out meanwhile (logged out here, or the server ended the login): the new session is not
                // kept, so it is ended (the logout ended the old one, and the new one would have stayed alive).
                post("/v1/auth/logout", { refreshToken: tokens.refreshToken }, {}, { keepalive: true }).catch(() => {
                    // Offline: it expires unused.
                });
                return;
            }
            this.tokens = { ...tokens, loginID: this.tokens.loginID };
            this.#save();
        } finally {
            this.changingPassword = null;
            finished();
        }
    }

    /** Ends the login on the server (best effort) and forgets it here. */
    async logOut() {
        this.loggingOut = true; // a refresh that got no answer is not tried again (logOut waits for it)
        try {
            await this.refreshing; // a refresh under way would otherwise store its tokens after forget()
        } catch {
            // Logging out anyway.
        }
        // A password change under way is not waited for (it may take up to its time limit): it ends this session
        // and makes a new one, which it ends itself once it finds this page signed out (`changePassword`).
        // The refresh token ends the session even when the access token has expired (no refresh needed first).
        const refreshToken = this.tokens.refreshToken;
        this.forget();
        // Not waited for: the page signs out at once, also when the server does not answer (`keepalive` lets the
        // request finish if the tab is closed meanwhile).
        post("/v1/auth/logout", { refreshToken }, {}, { keepalive: true }).catch(() => {
            // Offline or already ended: the tokens are gone from this tab either way.
        });
    }

    forget() {
        this.forgotten = true;
        sessionStorage.removeItem(STORAGE_KEY);
        this.unclaim();
    }
}
