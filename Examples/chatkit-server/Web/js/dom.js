// ChatKit web chat: small DOM helpers. Text always goes in through textContent, never as HTML.

/**
 * Creates an element: h("button", {class: "x", onclick: f, "aria-label": "Send"}, "Send").
 * Attributes whose value is null, undefined or false are left out; `true` sets an empty attribute.
 */
export function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === null || value === undefined || value === false) continue;
        if (name.startsWith("on") && typeof value === "function") {
            element.addEventListener(name.slice(2), value);
        } else if (name === "dataset") {
            Object.assign(element.dataset, value);
        } else {
            element.setAttribute(name, value === true ? "" : String(value));
        }
    }
    append(element, children);
    return element;
}

function append(element, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) continue;
        if (Array.isArray(child)) append(element, child);
        else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** A <time> element for a date in milliseconds: the time today, else the day. */
export function timeElement(milliseconds) {
    const date = new Date(milliseconds);
    const today = new Date().toDateString() === date.toDateString();
    return h(
        "time",
        { datetime: date.toISOString(), title: date.toLocaleString() },
        today ? timeFormat.format(date) : dayFormat.format(date),
    );
}

let lastMillisecond = 0;
let sameMillisecond = 0;

/** How many bytes `text` takes in UTF-8: what the server's limits on names and titles count. */
export function utf8Length(text) {
    return new TextEncoder().encode(text).length;
}

/**
 * A new client message ID that grows with time, as ChatKit's Swift client makes them: the server's index of
 * client message IDs then grows at its end, which is cheaper for the store. Its random part comes from
 * getRandomValues (crypto.randomUUID needs a secure context).
 */
export function timeOrderedID() {
    const now = Date.now();
    if (now > lastMillisecond) {
        lastMillisecond = now;
        sameMillisecond = 0;
    } else {
        sameMillisecond += 1;
    }
    const random = Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, "0"));
    const time = lastMillisecond.toString(16).padStart(12, "0");
    return `web-${time}-${sameMillisecond.toString(16).padStart(4, "0")}-${random.join("")}`;
}

/** Whether a scrollable element is scrolled (nearly) to its bottom. */
export function isAtBottom(element, slack = 40) {
    return element.scrollHeight - element.scrollTop - element.clientHeight <= slack;
}
