// How the ALB passes a routed request to its target: HTTP/2 (h2c or TLS) for ProtocolVersion HTTP2 and GRPC,
// HTTP/1.1 for HTTP1, and the ALB's own fixed responses when it cannot (404, 502, 503).
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import type { TargetGroupSpec } from "./model";

export interface Target {
  host: string;
  port: number;
}

/** One request the listener routed to a target group, with the headers to send on. */
export interface ForwardedRequest {
  stream: http2.ServerHttp2Stream;
  method: string;
  path: string;
  authority: string;
  headers: http2.OutgoingHttpHeaders;
  target: Target;
  tg: TargetGroupSpec;
}

/** Headers an HTTP proxy does not pass on. */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "host",
]);

/** The bodies of the ALB's own error pages. */
const FIXED_BODY: Record<number, string> = {
  502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
  503: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
};

/** A response the ALB writes itself: its 404 default action, or 502/503 when it cannot forward. */
export function respondFixed(stream: http2.ServerHttp2Stream, status: number): void {
  // Once a response has started (or the stream is gone) there is nothing an ALB error page can add.
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const body = FIXED_BODY[status] ?? "";
  stream.respond({
    ":status": status,
    server: "awselb/2.0",
    date: new Date().toUTCString(),
    // The controller's default 404 action is a fixed response with ContentType text/plain (build404Action).
    "content-type": status === 404 ? "text/plain; charset=utf-8" : "text/html",
    "content-length": String(Buffer.byteLength(body)),
  });
  stream.end(body);
}

/** The ALB's connections to its targets, one HTTP/2 session per target and protocol. */
export class UpstreamPool {
  private readonly upstreams = new Map<string, http2.ClientHttp2Session>();

  get(target: Target, protocol: "HTTP" | "HTTPS"): http2.ClientHttp2Session {
    const key = `${protocol}://${target.host}:${target.port}`;
    const existing = this.upstreams.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    // ALB keeps connections to targets open and reuses them; it does not verify target certificates.
    const url = `${protocol === "HTTPS" ? "https" : "http"}://${target.host}:${target.port}`;
    const session = http2.connect(url, protocol === "HTTPS" ? { rejectUnauthorized: false } : {});
    session.on("error", () => undefined);
    const drop = () => {
      if (this.upstreams.get(key) === session) this.upstreams.delete(key);
    };
    session.on("close", drop);
    session.on("goaway", drop);
    this.upstreams.set(key, session);
    return session;
  }

  close(): void {
    for (const session of this.upstreams.values()) session.destroy();
    this.upstreams.clear();
  }
}

/** Forwards a request over HTTP/2 (ProtocolVersion HTTP2 or GRPC), trailers and resets included. */
export function forwardHttp2(
  { stream, method, path, authority, headers, target, tg }: ForwardedRequest,
  upstreams: UpstreamPool,
): void {
  let up: http2.ClientHttp2Stream;
  try {
    up = upstreams.get(target, tg.protocol).request({
      ...headers,
      ":method": method,
      ":path": path,
      ":scheme": tg.protocol === "HTTPS" ? "https" : "http",
      ":authority": authority,
    });
  } catch {
    respondFixed(stream, 502);
    return;
  }
  let trailers: http2.IncomingHttpHeaders | undefined;
  up.on("response", (h, flags) => {
    if (stream.destroyed || stream.closed) return;
    const resp: http2.OutgoingHttpHeaders = { ":status": h[":status"] ?? 502 };
    for (const [k, v] of Object.entries(h)) {
      if (k.startsWith(":") || HOP_BY_HOP.has(k) || v === undefined) continue;
      resp[k] = v;
    }
    // gRPC "trailers-only" responses carry grpc-status in HEADERS with END_STREAM: relay them the same way.
    if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) {
      stream.respond(resp, { endStream: true });
      return;
    }
    stream.respond(resp, { waitForTrailers: true });
    up.pipe(stream);
  });
  up.on("trailers", (t) => {
    trailers = t;
  });
  stream.on("wantTrailers", () => {
    const t: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(trailers ?? {})) {
      if (!k.startsWith(":") && v !== undefined) t[k] = v;
    }
    stream.sendTrailers(t);
  });
  up.on("error", () => {
    if (!stream.headersSent) respondFixed(stream, 502);
    else if (!stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
  up.on("close", () => {
    if (!stream.headersSent && !stream.closed) respondFixed(stream, 502);
    else if (up.rstCode && up.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !stream.closed) {
      stream.close(up.rstCode);
    }
  });
  stream.on("close", () => {
    if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
  });
  stream.pipe(up);
}

/** Forwards a request over HTTP/1.1 (ProtocolVersion HTTP1). */
export function forwardHttp1({ stream, method, path, authority, headers, target, tg }: ForwardedRequest): void {
  // ProtocolVersion HTTP1: ALB speaks HTTP/1.1 to the target (and gRPC cannot survive that).
  const h1headers: http.OutgoingHttpHeaders = { host: authority };
  for (const [k, v] of Object.entries(headers)) if (k !== "te") h1headers[k] = v as string | string[];
  const request =
    tg.protocol === "HTTPS"
      ? https.request({
          host: target.host,
          port: target.port,
          method,
          path,
          headers: h1headers,
          setHost: false,
          rejectUnauthorized: false,
        })
      : http.request({ host: target.host, port: target.port, method, path, headers: h1headers, setHost: false });
  request.on("response", (res) => {
    if (stream.destroyed || stream.closed) return res.resume();
    const resp: http2.OutgoingHttpHeaders = { ":status": res.statusCode ?? 502 };
    for (const [k, v] of Object.entries(res.headers)) {
      if (HOP_BY_HOP.has(k) || v === undefined) continue;
      resp[k] = v;
    }
    stream.respond(resp);
    res.pipe(stream);
  });
  request.on("error", () => respondFixed(stream, 502));
  stream.on("close", () => request.destroy());
  stream.pipe(request);
}
