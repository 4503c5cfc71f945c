// ChatKit web chat: start-up, and the log-in / sign-up form.

import { ChatApp } from "./chat.js";
import { Outbox } from "./outbox.js";
import { Session } from "./session.js";
import { utf8Length } from "./dom.js";

const $ = (id) => document.getElementById(id);

// The fields have no maxlength, which would cut a long paste without a word: their lengths are checked when the form
// is sent, and said. A username is ASCII (the server says which characters it takes); a display name is counted as
// the server counts it, in bytes of UTF-8.
const MAX_USERNAME_LENGTH = 32;
const MAX_DISPLAY_NAME_BYTES = 128;

let app = null;

function showAuth(message = "") {
    app = null;
    // Nothing of the last login for whoever signs in next.
    for (const id of ["username", "password", "display-name"]) $(id).value = "";
    document.body.classList.remove("conversation-open", "signed-in");
    $("chat-view").hidden = true;
    $("auth-view").hidden = false;
    $("auth-error").textContent = message;
    $("username").focus();
}

function showChat(session) {
    $("auth-view").hidden = true;
    $("chat-view").hidden = false;
    document.body.classList.add("signed-in");
    app = new ChatApp(session, showAuth);
    app.start();
}

async function submitAuth(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const action = event.submitter?.value ?? "login";
    const username = $("username").value.trim();
    const password = $("password").value;
    const displayName = $("display-name").value.trim();
    const error = $("auth-error");
    error.textContent = "";
    if (!username || !password) {
        error.textContent = "Enter a username and a password.";
        (username ? $("password") : $("username")).focus();
        return;
    }
    if (username.length > MAX_USERNAME_LENGTH) {
        error.textContent =
            `A username has at most ${MAX_USERNAME_LENGTH} characters; this one has ${username.length}.`;
        $("username").focus();
        return;
    }
    if (action === "signup" && utf8Length(displayName) > MAX_DISPLAY_NAME_BYTES) {
        error.textContent =
            `A display name takes at most ${MAX_DISPLAY_NAME_BYTES} bytes of UTF-8 (accented letters, most scripts ` +
            `and emoji take 2 to 4 bytes each); this one takes ${utf8Length(displayName)}.`;
        $("display-name").focus();
        return;
    }
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    try {
        const session =
            action === "signup"
                ? await Session.signUp(username, password, displayName)
                : await Session.logIn(username, password);
        $("password").value = "";
        await session.claim(); // a new login: nobody else holds it
        showChat(session);
    } catch (failure) {
        error.textContent =
            failure.code === "unauthenticated" && action === "login"
                ? "Wrong username or password."
                : failure.code === "conflict"
                  ? "That username is taken. Pick another, or log in."
                  : failure.message;
    } finally {
        for (const button of form.querySelectorAll("button")) button.disabled = false;
    }
}

$("auth-form").addEventListener("submit", submitAuth);
// Enter submits a form with its first button, Log in: in the field only sign-ups use, it means Sign up.
$("display-name").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    $("signup-button").click();
});

const COPIED_TAB = "This tab was opened from another signed-in tab. Log in here too to chat in both.";

/** What a tab taken for a copy of another says: see `start()`. */
function copiedTabMessage(userID) {
    return Outbox.savedCount(userID) === 0
        ? COPIED_TAB
        : `${COPIED_TAB} Messages not sent yet in this tab go out when you do (once each, also those the other ` +
          "tab sent).";
}

async function start() {
    const session = Session.load();
    if (!session) return showAuth();
    if (await session.claim()) return showChat(session);
    // A copy of a signed-in tab: its login stays with that tab. Its unsent messages are kept (a tab that is no copy
    // may land here too, when the page it reloads held the login's lock a while longer), and go out when the same
    // user logs in here; another user's login forgets them (outbox.js). Both tabs may then send the same ones, which
    // makes no duplicates and keeps each conversation's order: a resend carries the message's client message ID (the
    // server stores it once), and a tab sends a conversation's messages one at a time in the outbox's order, each
    // once the one ahead is stored or failed for good (chat.js, #sendInOrder), so none is stored before one ahead
    // of it in the outbox both tabs started from.
    session.forget();
    showAuth(copiedTabMessage(session.user.id));
}

// A page kept in the back/forward cache stops (its connection, its refreshes) and lets go of its login: a page opened
// in its place in this tab may then take it, refresh it (rotating its refresh token), queue messages or log out.
// Shown again, the page reloads, and so shows what the tab holds by then, with the tokens and the outbox stored
// since, as any reload does (going on in place, it would present a rotated refresh token, which makes the server end
// the login, and save its older outbox over the tab's).
window.addEventListener("pagehide", (event) => {
    if (!event.persisted || !app) return;
    app.stop();
    app.session.abandon();
    app.session.unclaim();
});
window.addEventListener("pageshow", (event) => {
    if (event.persisted) location.reload();
});

start();
