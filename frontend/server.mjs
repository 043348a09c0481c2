/**
 * The web app's HTTP server: what `next start` does, plus one rule, the client's address.
 *
 * Next's own server believes the forwarding headers a client sends: it fills in X-Forwarded-For
 * only when a request has none, and src/proxy.ts forwards /api and /_allauth to Django with the
 * request's headers. Django counts its per-address limits (log-in failures, bad API keys) by
 * X-Forwarded-For, so a client could have named any address, and a new one for each request.
 * Here, before Next sees a request, the forwarding headers are rewritten from the connection:
 *
 * - X-Forwarded-For: the last WEB_TRUSTED_PROXY_HOPS entries of the header received (what the
 *   proxies in front of this server appended; none by default), then the connection's peer.
 *   Django trusts exactly that many entries plus this server's (TRUSTED_PROXY_HOPS).
 * - X-Forwarded-Proto, -Host, -Port: kept behind trusted proxies (they set them), dropped
 *   otherwise; Next then sets them from the connection and the Host header.
 * - X-Real-IP, Forwarded: dropped; nothing downstream may believe them.
 *
 * Usage: node server.mjs [-H hostname] [-p port]   (defaults 127.0.0.1 and 3000)
 * See docs/decisions/0012-security-hardening.md, finding 3.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";

// React and Next choose their production builds when first loaded: set before importing them.
process.env.NODE_ENV = "production";

const { values: options } = parseArgs({
  options: {
    hostname: { type: "string", short: "H", default: "127.0.0.1" },
    port: { type: "string", short: "p", default: "3000" },
  },
});
const port = Number(options.port);
const trustedHops = Number(process.env.WEB_TRUSTED_PROXY_HOPS || "0");
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`Invalid port: ${options.port}`);
  process.exit(1);
}
if (!Number.isInteger(trustedHops) || trustedHops < 0) {
  console.error(`WEB_TRUSTED_PROXY_HOPS must be a whole number of proxies (0 or more), not ${process.env.WEB_TRUSTED_PROXY_HOPS}`);
  process.exit(1);
}

/**
 * Rewrites the request's forwarding headers from the connection (see above).
 * @param {import("node:http").IncomingMessage} request
 */
function forwardingHeadersSet(request) {
  const { headers } = request;
  const received = String(headers["x-forwarded-for"] ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const trusted = trustedHops > 0 ? received.slice(-trustedHops) : [];
  const peer = request.socket.remoteAddress;
  const chain = peer ? [...trusted, peer] : trusted;
  if (chain.length > 0) headers["x-forwarded-for"] = chain.join(", ");
  else delete headers["x-forwarded-for"];
  if (trustedHops === 0) {
    delete headers["x-forwarded-proto"];
    delete headers["x-forwarded-host"];
    delete headers["x-forwarded-port"];
  }
  delete headers["x-real-ip"];
  delete headers["forwarded"];
}

const { default: next } = await import("next");
const app = next({ dev: false, dir: import.meta.dirname, hostname: options.hostname, port });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((request, response) => {
  forwardingHeadersSet(request);
  handle(request, response).catch((error) => {
    console.error(`Failed to handle ${request.method} ${request.url}`, error);
    if (!response.headersSent) response.statusCode = 500;
    response.end();
  });
});
server.on("error", (error) => {
  console.error("The web app's server failed to start:", error);
  process.exit(1);
});
server.listen(port, options.hostname, () => {
  console.info(`Taskscore web: listening on http://${options.hostname}:${port} (trusting ${trustedHops} proxies in front)`);
});

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.on(signal, () => {
    server.close();
    app.close().finally(() => process.exit(0));
  });
}
