// The HTTP surface: every request is recorded, authenticated, offered to the fault injector, then routed to
// discovery, the health endpoints, a watch or a REST verb. Errors become Status bodies. Ported from
// kubernetes/kubernetes (versions: README.md): staging/src/k8s.io/apiserver/pkg/endpoints/installer.go (the paths and
// verbs), staging/src/k8s.io/apiserver/pkg/endpoints/discovery (the discovery documents) and
// staging/src/k8s.io/apiserver/pkg/authentication/request/bearertoken/bearertoken.go (the Bearer header),
// staging/src/k8s.io/apiserver/pkg/authentication/token/tokenfile/tokenfile.go (static tokens) and
// staging/src/k8s.io/apiserver/pkg/authentication/request/union/union.go (the first authenticator that knows the token wins).
import type { IncomingMessage, ServerResponse } from "node:http";
import { authorize } from "./authz";
import type { RbacObjects } from "./rbac";
import type { AccessScope } from "./types";
import { type Call, objectBody, rawBody, send } from "./call";
import { methodNotAllowed, StatusError } from "./errors";
import type { FaultInjector } from "./faults";
import type { Json, JsonObject } from "./json";
import { parseTarget, RESOURCES } from "./resources";
import type { RestHandlers } from "./rest";
import type { AuthResult, KubeApiServerOptions, RequestRecord } from "./types";
import type { WatchHub } from "./watch";

const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.5-eks-sandbox",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.8",
  compiler: "gc",
  platform: "linux/amd64",
};

const VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];

export class RequestRouter {
  constructor(
    private readonly options: KubeApiServerOptions,
    /** The server's record of requests, appended to in arrival order. */
    private readonly requests: RequestRecord[],
    private readonly faults: FaultInjector,
    private readonly rest: RestHandlers,
    private readonly watches: WatchHub,
    /** The server's own URL, which /api advertises. */
    private readonly url: () => string,
    /** The access scope of IAM principals now. */
    private readonly scope: () => AccessScope,
    /** The stored Roles, ClusterRoles and bindings the RBAC authorizer evaluates. */
    private readonly rbacObjects: RbacObjects,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const record: RequestRecord = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    const contentType = req.headers["content-type"];
    if (contentType) record.contentType = contentType;
    const fieldManager = url.searchParams.get("fieldManager");
    if (fieldManager) record.fieldManager = fieldManager;
    if (req.headers["user-agent"]) record.userAgent = req.headers["user-agent"];
    this.requests.push(record);
    const call: Call = { req, res, url, record };
    try {
      this.authenticate(call);
      // Faults act after authentication, where API Priority and Fairness throttles and RBAC denies.
      if (this.faults.intercept(call)) return;
      await this.route(call);
    } catch (err) {
      const status =
        err instanceof StatusError
          ? err
          : new StatusError(500, "InternalError", `Internal error occurred: ${(err as Error).message}`);
      if (!res.headersSent) send(call, status.code, status.body(), status.headers);
      else res.end();
    }
  }

  private authenticate(call: Call): void {
    const header = call.req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const unauthorized = new StatusError(401, "Unauthorized", "Unauthorized");
    if (!match?.[1]) {
      call.record.authError = "no bearer token";
      throw unauthorized;
    }
    // A union of authenticators, as the apiserver builds it: the static token file first, then the EKS webhook.
    const staticToken = this.options.staticTokens?.find((t) => t.token === match[1]);
    if (staticToken) {
      call.record.user = staticToken.user;
      call.fullAccess = true;
      return;
    }
    const result: AuthResult = this.options.authenticate?.(match[1]) ?? { ok: true, user: "sandbox-user" };
    if (!result.ok) {
      call.record.authError = result.reason;
      throw unauthorized;
    }
    call.record.user = result.user;
  }

  private async route(call: Call): Promise<void> {
    const path = call.url.pathname.replace(/\/+$/, "") || "/";
    const discovery = this.discovery(path);
    if (discovery !== undefined) {
      if (call.record.method !== "GET") throw methodNotAllowed();
      send(call, 200, discovery);
      return;
    }
    if (["/healthz", "/livez", "/readyz"].includes(path)) {
      send(call, 200, "ok");
      return;
    }
    const target = parseTarget(path);
    if (!target) throw new StatusError(404, "NotFound", "the server could not find the requested resource", {});
    if (target.subresource && !(target.subresource === "status" && target.info.hasStatus)) {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource", {});
    }
    if (!call.fullAccess) authorize(call, target, this.scope(), this.rbacObjects);
    const watch = ["true", "1"].includes(call.url.searchParams.get("watch") ?? "");
    switch (`${call.record.method} ${target.name ? "object" : "collection"}`) {
      case "GET collection":
        if (watch) await this.watches.serve(call, target);
        else await this.rest.list(call, target);
        break;
      case "POST collection":
        await this.rest.create(call, target, await objectBody(call));
        break;
      case "GET object":
        this.rest.get(call, target);
        break;
      case "PUT object":
        await this.rest.update(call, target, await objectBody(call));
        break;
      case "PATCH object":
        await this.rest.patch(call, target, await rawBody(call));
        break;
      case "DELETE object":
        if (target.subresource) throw methodNotAllowed();
        await this.rest.remove(call, target, await rawBody(call));
        break;
      default:
        throw methodNotAllowed();
    }
  }

  private discovery(path: string): Json | undefined {
    const resourceList = (group: string, version: string): JsonObject => ({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources: RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((r) => {
        const main: JsonObject = {
          name: r.plural,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: VERBS,
        };
        if (r.shortNames.length > 0) main.shortNames = r.shortNames;
        if (r.categories.length > 0) main.categories = r.categories;
        const status: JsonObject = { name: `${r.plural}/status`, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: ["get", "patch", "update"] };
        return r.hasStatus ? [main, status] : [main];
      }),
    });
    // One APIGroup per named group, its versions in the order RESOURCES lists them, the first one preferred (for
    // milvus.io that is v1beta1, first by Kubernetes version priority as the CRD discovery controller sorts them).
    const groups = [...new Set(RESOURCES.map((r) => r.group).filter((g) => g !== ""))].map((name) => {
      const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))].map((version) => ({
        groupVersion: `${name}/${version}`,
        version,
      }));
      return { name, versions, preferredVersion: versions[0] as JsonObject };
    });
    const groupPath = groups.find((g) => path === `/apis/${g.name}`);
    if (groupPath) return { kind: "APIGroup", apiVersion: "v1", ...groupPath };
    const versionPath = groups.flatMap((g) => g.versions).find((v) => path === `/apis/${v.groupVersion}`);
    if (versionPath) return resourceList(versionPath.groupVersion.split("/")[0] ?? "", versionPath.version);
    switch (path) {
      case "/version":
        return SERVER_VERSION;
      case "/api":
        return {
          kind: "APIVersions",
          versions: ["v1"],
          serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: this.url().replace("https://", "") }],
        };
      case "/api/v1":
        return resourceList("", "v1");
      case "/apis":
        return { kind: "APIGroupList", apiVersion: "v1", groups };
      default:
        return undefined;
    }
  }
}
