// Talking to the API: the bearer token (kept in sessionStorage, gone when the tab closes),
// its errors as text, and server-sent events read from a fetch body (EventSource cannot send an
// Authorization header).

export const TOKEN = "tts.token";
export const USER = "tts.user";

export const token = () => sessionStorage.getItem(TOKEN);

// A 401 with a token means it expired: the page signs out on this event.
export const UNAUTHORIZED = "tts:unauthorized";

export async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (token()) headers.set("Authorization", `Bearer ${token()}`);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && token()) window.dispatchEvent(new Event(UNAUTHORIZED));
  return response;
}

// The API's errors: {"detail": "..."}, or a list of field problems each with its own message.
export async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

// Server-sent events from a fetch body: events end at a blank line; ":" lines are comments.
export async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of lines) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const key = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (key === "event") name = val;
        else if (key === "data") data.push(val);
      }
      if (data.length) yield { name, data: data.join("\n") };
    }
  }
}
