// ChatKit web chat: which page of this browser holds which login. A tab duplicated from another (or opened from
// it) starts with a copy of its sessionStorage, refresh token included; if both pages used it, the first refresh
// would rotate the token and the second would present the old one, which the server takes for a stolen token
// (it ends the login in both). So one page holds a login: a Web Lock named after it, held while the page lives,
// and where Web Locks are missing (a page served over plain HTTP to another host is not a secure context) an
// answer on a BroadcastChannel to a page that asks who holds it.

const CHANNEL = "chatkit.logins";
// How long a page waits for the login's lock: a reloaded page's predecessor releases it as it goes away.
const LOCK_WAIT_MS = 1_500;
// How long a page without Web Locks waits for another page to say it holds the login.
const ANSWER_WAIT_MS = 300;

const held = new Set(); // the login IDs this page holds
const asking = new Map(); // nonce -> resolve(true) when another page answers that it holds the login
let channel = null;

function listen() {
    if (channel || typeof BroadcastChannel === "undefined") return;
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = ({ data }) => {
        if (data?.type === "who" && held.has(data.loginID)) {
            channel.postMessage({ type: "mine", loginID: data.loginID, nonce: data.nonce });
        } else if (data?.type === "mine") {
            asking.get(data.nonce)?.(true);
        }
    };
}

async function lock(loginID) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), LOCK_WAIT_MS);
    try {
        return await new Promise((resolve, reject) => {
            navigator.locks
                .request(`chatkit.login.${loginID}`, { signal: timeout.signal }, () => {
                    let release;
                    const released = new Promise((done) => (release = done));
                    resolve(release);
                    return released;
                })
                .catch(reject);
        });
    } catch (error) {
        if (error?.name === "AbortError") return null;
        // Web Locks that do not work: as without them.
        console.warn("ChatKit: could not take the login's lock", error);
        return () => {};
    } finally {
        clearTimeout(timer);
    }
}

async function anotherPageHolds(loginID) {
    if (!channel) return false;
    const nonce = `${Date.now()}-${Math.random()}`;
    const answered = new Promise((resolve) => {
        asking.set(nonce, resolve);
        setTimeout(() => resolve(false), ANSWER_WAIT_MS);
    });
    channel.postMessage({ type: "who", loginID, nonce });
    const holds = await answered;
    asking.delete(nonce);
    return holds;
}

/**
 * Claims `loginID` for this page. Returns a function that gives the login up (logging out, or the page going
 * into the back/forward cache), or null when another live page holds it: this page is a copy.
 */
export async function claimLogin(loginID) {
    listen();
    let releaseLock = () => {};
    if (navigator.locks) {
        const release = await lock(loginID);
        if (!release) return null;
        releaseLock = release;
    } else if (await anotherPageHolds(loginID)) {
        return null;
    }
    held.add(loginID);
    return () => {
        held.delete(loginID);
        releaseLock();
    };
}
