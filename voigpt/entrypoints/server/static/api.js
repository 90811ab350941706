// The server's own OpenAI-compatible API, as the page uses it: the models, and a streamed
// chat completion read incrementally from Server-Sent Events. Every failure becomes an
// ApiError whose `kind` the page turns into a message.

export class ApiError extends Error {
  // kind: "auth" | "rate" | "upstream" | "timeout" | "request" | "network" | "stream" | "aborted"
  constructor(kind, message, { status = 0, retryAfter = null, keySent = false } = {}) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter; // seconds, or null when the server gave no hint
    this.keySent = keySent;
  }
}

function headers(key, json) {
  const result = { Accept: json ? "application/json" : "text/event-stream" };
  if (json) result["Content-Type"] = "application/json";
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

// Retry-After is either seconds or an HTTP-date.
export function retryAfterSeconds(value) {
  if (value == null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

function kindOf(status) {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate";
  if (status === 504 || status === 408) return "timeout";
  if (status >= 500) return "upstream";
  return "request";
}

async function errorFrom(response, keySent) {
  let message = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === "string") message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(kindOf(response.status), message, {
    status: response.status,
    retryAfter: retryAfterSeconds(response.headers.get("Retry-After")),
    keySent,
  });
}

async function request(url, options, signal) {
  try {
    return await fetch(url, { ...options, signal, cache: "no-store", credentials: "omit" });
  } catch (error) {
    if (signal && signal.aborted) throw new ApiError("aborted", "stopped");
    throw new ApiError("network", String(error && error.message ? error.message : error));
  }
}

export async function listModels(key, signal) {
  const response = await request("/v1/models", { headers: headers(key, true) }, signal);
  if (!response.ok) throw await errorFrom(response, Boolean(key));
  const body = await response.json();
  return (body.data || []).map((model) => String(model.id));
}

// Yields the reply's text as it arrives; returns once `data: [DONE]` is read.
// `responseFormat` (e.g. { type: "json_object" }) is sent as OpenAI's `response_format`.
export async function* streamCompletion({ messages, model, key, signal, responseFormat }) {
  const body = { messages, stream: true };
  if (model) body.model = model;
  if (responseFormat) body.response_format = responseFormat;
  const response = await request(
    "/v1/chat/completions",
    { method: "POST", headers: headers(key, true), body: JSON.stringify(body) },
    signal,
  );
  if (!response.ok) throw await errorFrom(response, Boolean(key));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal && signal.aborted) throw new ApiError("aborted", "stopped");
        throw new ApiError("network", String(error && error.message ? error.message : error));
      }
      if (chunk.done) break;
      buffer += chunk.value;
      const events = buffer.split(/\r?\n\r?\n/);
      buffer = events.pop();
      for (const event of events) {
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data === "") continue;
        if (data === "[DONE]") return;
        let parsed;
        try {
          parsed = JSON.parse(data);
        } catch {
          throw new ApiError("stream", "the server sent an event that is not JSON");
        }
        if (parsed.error) {
          throw new ApiError("upstream", String(parsed.error.message || "the server failed"));
        }
        const delta = parsed.choices && parsed.choices[0] && parsed.choices[0].delta;
        if (delta && typeof delta.content === "string" && delta.content !== "") {
          yield delta.content;
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  throw new ApiError("stream", "the reply was cut off before its end");
}
