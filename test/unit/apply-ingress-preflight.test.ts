// apply-ingress's preflight against a fake cluster: every refusal names the object, the field and the fix and comes
// before any write; what agrees passes; a read the Lambdas may not make becomes a warning that reaches the summary;
// a terminating Ingress is waited out.
import { describe, expect, it } from "vitest";
import { applyIngress } from "../../functions/apply-ingress/core";
import { withMilvusL7Defaults } from "../../functions/lib/alb-annotations";
import { AdmissionDenied, KubernetesForbidden, KubernetesNotFound } from "../../functions/lib/errors";
import type { KubeClient, WatchEvent } from "../../functions/lib/kube-client";
import type { Target } from "../../functions/lib/state";
import { recordDeployment } from "../../functions/record-deployment/core";

const CERT = "arn:aws:acm:us-east-2:123456789012:certificate/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11";
const OTHER_CERT = "arn:aws:acm:us-east-2:123456789012:certificate/11111111-2222-4333-8444-555555555555";
const A = "alb.ingress.kubernetes.io/";
const ING = "/apis/networking.k8s.io/v1";
const SVC = "/api/v1/namespaces/milvus/services/milvus-demo";
const OUR_INGRESS = `${ING}/namespaces/milvus/ingresses/milvus-demo`;
const POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** A KubeClient-like fake: objects by REST path, forbidden paths, every call recorded. */
class FakeCluster {
  readonly objects = new Map<string, Obj>();
  readonly forbidden = new Set<string>();
  readonly calls: string[] = [];
  /** Events the next watch delivers, in order, then it ends as if its time ran out. */
  watchEvents: (() => WatchEvent<Obj> | undefined)[] = [];
  private rv = 100;

  put(path: string, obj: Obj): this {
    this.objects.set(path, { ...obj, metadata: { resourceVersion: String(++this.rv), uid: `uid-${this.rv}`, ...obj.metadata } });
    return this;
  }

  get writes(): string[] {
    return this.calls.filter((c) => /^(PATCH|POST|PUT|DELETE) /.test(c));
  }

  private guard(what: string, path: string) {
    if (this.forbidden.has(path)) throw new KubernetesForbidden(`Kubernetes API refused ${what} (403)`);
  }

  async get<T>(what: string, path: string): Promise<T> {
    this.calls.push(`GET ${path}`);
    this.guard(what, path);
    const obj = this.objects.get(path);
    if (!obj) throw new KubernetesNotFound(`Not found: ${what}`);
    return structuredClone(obj) as T;
  }

  async getIfExists<T>(what: string, path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(what, path);
    } catch (e) {
      if (e instanceof KubernetesNotFound) return undefined;
      throw e;
    }
  }

  async list<T>(what: string, path: string, query?: Record<string, unknown>): Promise<{ items: T[] }> {
    this.calls.push(`LIST ${path}${query?.labelSelector ? `?labelSelector=${query.labelSelector}` : ""}`);
    this.guard(what, path);
    const all = path === `${ING}/ingresses`;
    const items = [...this.objects.entries()]
      .filter(([p]) => (all ? /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/[^/]+\/ingresses\/[^/]+$/.test(p) : p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes("/")))
      .map(([, o]) => o)
      .filter((o) => {
        const selector = query?.labelSelector as string | undefined;
        if (!selector) return true;
        const labels = (o.metadata?.labels ?? {}) as Record<string, string>;
        return selector.split(",").every((req) => labels[req.split("=")[0] as string] === req.split("=")[1]);
      });
    return { items: structuredClone(items) as T[] };
  }

  async watch<T>(_what: string, path: string, _query: unknown, _seconds: number, onEvent: (e: WatchEvent<T>) => boolean): Promise<void> {
    this.calls.push(`WATCH ${path}`);
    for (const next of this.watchEvents) {
      const event = next();
      if (event && onEvent(event as WatchEvent<T>)) return;
    }
  }

  async apply<T>(_what: string, path: string, body: Obj): Promise<T> {
    this.calls.push(`PATCH ${path}`);
    const before = this.objects.get(path);
    const applied = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.rv), uid: before?.metadata?.uid ?? `uid-${this.rv}`, managedFields: [{ manager: "milvus-l7", operation: "Apply", time: "2026-01-01T00:00:00Z" }] } };
    this.objects.set(path, applied);
    return structuredClone(applied) as T;
  }

  async mergePatch<T>(_what: string, path: string): Promise<T> {
    this.calls.push(`PATCH ${path}`);
    throw new Error("apply-ingress must not merge-patch");
  }

  async delete(_what: string, path: string): Promise<void> {
    this.calls.push(`DELETE ${path}`);
  }
}

const target = (ingress: Partial<Target["ingress"]> = {}, annotations: Record<string, string> = {}): Target => ({
  cluster: { name: "milvus-eks", region: "us-east-2" },
  namespace: "milvus",
  service: { name: "milvus-demo", port: 19530 },
  ingress: { name: "milvus-demo", host: "milvus-demo.milvus.io", scheme: "internet-facing", annotations: withMilvusL7Defaults(annotations), ...ingress },
});

const SELECTOR = { "app.kubernetes.io/instance": "milvus-demo", "app.kubernetes.io/component": "proxy" };
const GATED = { spec: { readinessGates: [{ conditionType: "target-health.elbv2.k8s.aws/k8s-milvus-milvusde-0123456789" }] } };

/** A cluster where everything agrees: the chart's IngressClass, the Milvus Service, one gated proxy pod. */
function cluster(opts: { serviceAnnotations?: Record<string, string>; podGated?: boolean } = {}): FakeCluster {
  return new FakeCluster()
    .put(SVC, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "milvus-demo", namespace: "milvus", annotations: opts.serviceAnnotations ?? {} },
      spec: { type: "LoadBalancer", ports: [{ name: "milvus", port: 19530 }], selector: SELECTOR },
    })
    .put(`${ING}/ingressclasses/alb`, { kind: "IngressClass", metadata: { name: "alb" }, spec: { controller: "ingress.k8s.aws/alb" } })
    .put("/api/v1/namespaces/milvus", { kind: "Namespace", metadata: { name: "milvus", labels: { "kubernetes.io/metadata.name": "milvus" } } })
    .put("/api/v1/namespaces/milvus/pods/milvus-demo-proxy-0", {
      kind: "Pod",
      metadata: { name: "milvus-demo-proxy-0", namespace: "milvus", labels: SELECTOR },
      ...(opts.podGated === false ? { spec: {} } : GATED),
      status: { phase: "Running" },
    });
}

const classOfApplied = (kube: FakeCluster) => (kube.objects.get(OUR_INGRESS)?.spec as { ingressClassName?: string } | undefined)?.ingressClassName;

const run = (kube: FakeCluster, t: Target = target(), extra: { terminatingWaitSeconds?: number } = {}) =>
  applyIngress({ target: t, certificate: { arn: CERT } }, { connect: async () => kube as unknown as KubeClient, ...extra });

/** Expects a ClusterRefused whose message contains every fragment, and no write at all. */
async function expectRefused(kube: FakeCluster, t: Target, ...fragments: string[]) {
  const error = await run(kube, t).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.name).toBe("ClusterRefused");
  for (const f of fragments) expect(error?.message).toContain(f);
  expect(kube.writes).toEqual([]);
}

function withParams(kube: FakeCluster, spec: Record<string, unknown>, controller: "ingress.k8s.aws/alb" | "eks.amazonaws.com/alb" = "ingress.k8s.aws/alb") {
  const group = controller === "eks.amazonaws.com/alb" ? "eks.amazonaws.com" : "elbv2.k8s.aws";
  const version = controller === "eks.amazonaws.com/alb" ? "v1" : "v1beta1";
  kube.put(`${ING}/ingressclasses/alb`, {
    kind: "IngressClass",
    metadata: { name: "alb" },
    spec: { controller, parameters: { apiGroup: group, kind: "IngressClassParams", name: "alb-params" } },
  });
  kube.put(`/apis/${group}/${version}/ingressclassparams/alb-params`, { kind: "IngressClassParams", metadata: { name: "alb-params" }, spec });
  return kube;
}

describe("the IngressClass", () => {
  it("applies with the request's class when the cluster agrees, with no warning", async () => {
    const kube = cluster().put(`${ING}/ingressclasses/alb-internal`, { metadata: { name: "alb-internal" }, spec: { controller: "ingress.k8s.aws/alb" } });
    const state = await run(kube, target({ className: "alb-internal" }));
    expect(state.preflightWarnings).toEqual([]);
    expect(classOfApplied(kube)).toBe("alb-internal");
    expect(kube.writes).toEqual([`PATCH ${OUR_INGRESS}`]);
  });

  it("defaults to alb for a target recorded before ingress.className existed", async () => {
    const kube = cluster();
    await run(kube, target());
    expect(classOfApplied(kube)).toBe("alb");
  });

  it("refuses a class that does not exist, saying which exist and how to get one", async () => {
    const kube = cluster()
      .put(`${ING}/ingressclasses/nginx`, { metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } })
      .put(`${ING}/ingressclasses/alb-internal`, { metadata: { name: "alb-internal" }, spec: { controller: "ingress.k8s.aws/alb" } });
    await expectRefused(
      kube,
      target({ className: "alb-public" }),
      "IngressClass alb-public (ingress.className) does not exist",
      "nginx (k8s.io/ingress-nginx)",
      "the AWS Load Balancer Controller serves alb, alb-internal: set ingress.className to one of them",
      "createIngressClassResource",
    );
  });

  it("still names the missing class when the classes cannot be listed", async () => {
    const kube = cluster();
    kube.forbidden.add(`${ING}/ingressclasses`);
    await expectRefused(kube, target({ className: "alb-public" }), "IngressClass alb-public (ingress.className) does not exist", "could not list");
  });

  it("refuses a class of another controller, naming it", async () => {
    const kube = cluster().put(`${ING}/ingressclasses/alb`, { metadata: { name: "alb" }, spec: { controller: "k8s.io/ingress-nginx" } });
    await expectRefused(kube, target(), "IngressClass alb (ingress.className) has spec.controller k8s.io/ingress-nginx", "Set ingress.className to an IngressClass of the AWS Load Balancer Controller");
  });

  it("warns, and applies, when the IngressClass cannot be read", async () => {
    const kube = cluster();
    kube.forbidden.add(`${ING}/ingressclasses/alb`);
    const state = await run(kube);
    expect(state.preflightWarnings).toEqual([expect.stringContaining("could not read IngressClass alb (forbidden)")]);
    expect(state.preflightWarnings[0]).toContain("get and list on ingressclasses (apiGroup networking.k8s.io)");
    expect(kube.writes).toHaveLength(1);
  });

  it("carries what it could not check into the Cause when the apply then fails (a webhook refusing the class)", async () => {
    const kube = cluster();
    kube.forbidden.add(`${ING}/ingressclasses/alb`);
    const denied = new AdmissionDenied('The cluster\'s admission policy refused apply Ingress milvus/milvus-demo (403): the admission webhook "vingress.elbv2.k8s.aws" denied it: invalid ingress class.');
    kube.apply = async () => {
      throw denied;
    };
    const error = await run(kube).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBe(denied);
    expect(error?.message).toMatch(/denied it: invalid ingress class\. The preflight could not check everything: .*could not read IngressClass alb \(forbidden\)/);
  });
});

describe("IngressClassParams", () => {
  it("passes parameters that agree with the request", async () => {
    const kube = withParams(cluster(), { scheme: "internet-facing", sslPolicy: POLICY, certificateArn: [CERT], ipAddressType: "dualstack", tags: [{ key: "team", value: "ml" }] });
    const state = await run(kube);
    expect(state.preflightWarnings).toEqual([]);
    expect(kube.calls).toContain("GET /apis/elbv2.k8s.aws/v1beta1/ingressclassparams/alb-params");
  });

  it.each([
    [{ scheme: "internal" }, ["spec.scheme: internal", "ingress.scheme internet-facing", "Set ingress.scheme to internal"]],
    [{ certificateArn: [OTHER_CERT] }, ["spec.certificateArn", OTHER_CERT, "not the one milvus-l7 imports"]],
    [{ sslPolicy: "ELBSecurityPolicy-2016-08" }, ["spec.sslPolicy: ELBSecurityPolicy-2016-08", POLICY]],
    [{ targetType: "instance" }, ["spec.targetType: instance", "ClusterIP"]],
    [{ group: { name: "shared" } }, ["spec.group.name: shared", "asks for no group", `${A}group.name: shared`]],
    [{ loadBalancerAttributes: [{ key: "idle_timeout.timeout_seconds", value: "60" }] }, ["idle_timeout.timeout_seconds=60", "timeout_seconds=300"]],
  ] as const)("refuses %j, naming the field", async (spec, fragments) => {
    await expectRefused(withParams(cluster(), spec), target(), "IngressClassParams alb-params (of IngressClass alb)", ...fragments);
  });

  it("refuses a parameter that silently replaces an annotation the request set, and accepts it when the request leaves it open", async () => {
    const spec = { inboundCIDRs: ["10.0.0.0/8"] };
    await expectRefused(withParams(cluster(), spec), target({}, { [`${A}inbound-cidrs`]: "192.168.0.0/16" }), "spec.inboundCIDRs (10.0.0.0/8)", `${A}inbound-cidrs (192.168.0.0/16`);
    await expect(run(withParams(cluster(), spec), target({}, { [`${A}inbound-cidrs`]: "10.0.0.0/8" }))).resolves.toMatchObject({ changed: true });
    await expect(run(withParams(cluster(), spec), target())).resolves.toMatchObject({ changed: true });
  });

  it("accepts a group in the parameters that the request asks for too", async () => {
    const kube = withParams(cluster(), { group: { name: "shared" } });
    await expect(run(kube, target({}, { [`${A}group.name`]: "shared" }))).resolves.toMatchObject({ preflightWarnings: [] });
  });

  it("refuses parameters of another API group, and parameters that do not exist", async () => {
    const kube = cluster().put(`${ING}/ingressclasses/alb`, {
      metadata: { name: "alb" },
      spec: { controller: "ingress.k8s.aws/alb", parameters: { apiGroup: "example.com", kind: "Params", name: "x" } },
    });
    await expectRefused(kube, target(), "spec.parameters example.com/Params x", "apiGroup elbv2.k8s.aws");
    const missing = withParams(cluster(), {});
    missing.objects.delete("/apis/elbv2.k8s.aws/v1beta1/ingressclassparams/alb-params");
    await expectRefused(missing, target(), "references IngressClassParams alb-params (elbv2.k8s.aws/v1beta1), which does not exist");
  });

  it("refuses a namespaceSelector the namespace does not match, passes one it does, and warns when the namespace is unreadable", async () => {
    const selector = { namespaceSelector: { matchLabels: { team: "search" } } };
    await expectRefused(withParams(cluster(), selector), target(), "spec.namespaceSelector that namespace milvus does not match");
    const labelled = withParams(cluster(), selector).put("/api/v1/namespaces/milvus", { metadata: { name: "milvus", labels: { team: "search" } } });
    await expect(run(labelled)).resolves.toMatchObject({ preflightWarnings: [] });
    const hidden = withParams(cluster(), selector);
    hidden.forbidden.add("/api/v1/namespaces/milvus");
    const state = await run(hidden);
    expect(state.preflightWarnings).toEqual([expect.stringContaining("could not read Namespace milvus (forbidden)")]);
  });

  it("warns when the parameters cannot be read, naming the grant", async () => {
    const kube = withParams(cluster(), { scheme: "internal" });
    kube.forbidden.add("/apis/elbv2.k8s.aws/v1beta1/ingressclassparams/alb-params");
    const state = await run(kube);
    expect(state.preflightWarnings).toEqual([expect.stringContaining("get on ingressclassparams (apiGroup elbv2.k8s.aws)")]);
  });

  it("reads EKS Auto Mode's parameters (eks.amazonaws.com/v1) and refuses their certificateARNs", async () => {
    const kube = withParams(cluster(), { certificateARNs: [OTHER_CERT] }, "eks.amazonaws.com/alb");
    await expectRefused(kube, target(), "spec.certificateARNs", OTHER_CERT);
    expect(kube.calls).toContain("GET /apis/eks.amazonaws.com/v1/ingressclassparams/alb-params");
  });

  it("refuses, with EKS Auto Mode, the group.name annotation it does not support", async () => {
    const kube = withParams(cluster(), { scheme: "internet-facing" }, "eks.amazonaws.com/alb");
    await expectRefused(kube, target({}, { [`${A}group.name`]: "shared" }), "EKS Auto Mode", `${A}group.name`, "spec.group.name");
  });
});

describe("the Milvus Service's annotations", () => {
  it.each([
    [{ [`${A}backend-protocol-version`]: "HTTP1" }, ["backend-protocol-version: HTTP1", "gRPC"]],
    [{ [`${A}target-type`]: "instance" }, ["target-type: instance", "NodePort", "ClusterIP"]],
    [{ [`${A}success-codes`]: "200" }, ["success-codes: 200", "gRPC status codes"]],
    [{ [`${A}healthcheck-protocol`]: "HTTPS" }, ["healthcheck-protocol: HTTPS", "backend protocol is HTTP"]],
    [{ [`${A}healthcheck-path`]: "/healthz" }, ["healthcheck-path: /healthz", "gRPC method path"]],
  ] as const)("refuses %j, naming the annotation and why", async (annotations, fragments) => {
    await expectRefused(cluster({ serviceAnnotations: annotations }), target(), "Service milvus/milvus-demo has the annotation", "kubectl annotate service milvus-demo -n milvus", ...fragments);
  });

  it("refuses a Service annotation that would override the request's", async () => {
    await expectRefused(
      cluster({ serviceAnnotations: { [`${A}healthcheck-interval-seconds`]: "30" } }),
      target({}, { [`${A}healthcheck-interval-seconds`]: "10" }),
      "healthcheck-interval-seconds: 30, which wins over the Ingress's 10",
    );
  });

  it("passes harmless annotations", async () => {
    const kube = cluster({
      serviceAnnotations: {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        [`${A}target-type`]: "ip",
        [`${A}healthcheck-protocol`]: "HTTP",
        [`${A}success-codes`]: "0-99",
        [`${A}tags`]: "team=ml",
      },
    });
    await expect(run(kube)).resolves.toMatchObject({ changed: true, preflightWarnings: [] });
  });
});

function peer(kube: FakeCluster, ns: string, name: string, annotations: Record<string, string>, extra: { className?: string; deleting?: boolean } = {}) {
  return kube.put(`${ING}/namespaces/${ns}/ingresses/${name}`, {
    kind: "Ingress",
    metadata: { name, namespace: ns, annotations, ...(extra.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { ingressClassName: extra.className ?? "alb" },
  });
}

describe("the IngressGroup's other members", () => {
  const grouped = target({}, { [`${A}group.name`]: "shared" });

  it("refuses a peer that disagrees on the TLS policy of a shared listener, naming it and both values", async () => {
    const kube = peer(cluster(), "web", "site", { [`${A}group.name`]: "shared", [`${A}listen-ports`]: '[{"HTTPS":443}]', [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS-1-2-2017-01" });
    await expectRefused(kube, grouped, "Ingress web/site is in IngressGroup shared", "ssl-policy on listener port 443 ELBSecurityPolicy-TLS-1-2-2017-01", POLICY);
    expect(kube.calls).toContain(`LIST ${ING}/ingresses`);
  });

  it.each([
    [{ [`${A}scheme`]: "internal" }, "scheme internal"],
    [{ [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=60" }, "load-balancer-attributes idle_timeout.timeout_seconds 60"],
    [{ [`${A}wafv2-acl-arn`]: "arn:aws:wafv2:us-east-2:123456789012:regional/webacl/a/0b1d4c51-5e44-4b7e-9a4b-1f6f0e3c9a11" }, undefined],
    [{ [`${A}ip-address-type`]: "dualstack" }, undefined],
  ] as const)("refuses a peer setting %j where milvus-l7's Ingress sets another value", async (annotations, fragment) => {
    const ours = target({}, { [`${A}group.name`]: "shared", [`${A}wafv2-acl-arn`]: "none", [`${A}ip-address-type`]: "ipv4" });
    const kube = peer(cluster(), "web", "site", { [`${A}group.name`]: "shared", ...annotations });
    await expectRefused(kube, ours, "Ingress web/site is in IngressGroup shared", ...(fragment ? [fragment] : []));
  });

  it("passes peers that agree, listen elsewhere, belong to another class or group, or are being deleted", async () => {
    const kube = cluster().put(`${ING}/ingressclasses/nginx`, { metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } });
    peer(kube, "web", "same", { [`${A}group.name`]: "shared", [`${A}listen-ports`]: '[{"HTTPS":443}]', [`${A}ssl-policy`]: POLICY, [`${A}scheme`]: "internet-facing" });
    peer(kube, "web", "http-only", { [`${A}group.name`]: "shared", [`${A}ssl-policy`]: "ELBSecurityPolicy-2016-08" });
    peer(kube, "web", "nginx", { [`${A}group.name`]: "shared", [`${A}scheme`]: "internal" }, { className: "nginx" });
    peer(kube, "web", "other-group", { [`${A}group.name`]: "other", [`${A}scheme`]: "internal" });
    peer(kube, "web", "leaving", { [`${A}group.name`]: "shared", [`${A}scheme`]: "internal" }, { deleting: true });
    await expect(run(kube, grouped)).resolves.toMatchObject({ changed: true, preflightWarnings: [] });
  });

  it("counts a peer its class's IngressClassParams puts in the group", async () => {
    const kube = cluster()
      .put(`${ING}/ingressclasses/team`, { metadata: { name: "team" }, spec: { controller: "ingress.k8s.aws/alb", parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "team" } } })
      .put("/apis/elbv2.k8s.aws/v1beta1/ingressclassparams/team", { metadata: { name: "team" }, spec: { group: { name: "shared" }, scheme: "internal" } });
    peer(kube, "web", "site", {}, { className: "team" });
    await expectRefused(kube, grouped, "Ingress web/site is in IngressGroup shared", "scheme internal (from IngressClassParams team spec.scheme)");
  });

  it("does not list Ingresses without a group", async () => {
    const kube = peer(cluster(), "web", "site", { [`${A}scheme`]: "internal" });
    await run(kube);
    expect(kube.calls).not.toContain(`LIST ${ING}/ingresses`);
  });

  it("warns when the Ingresses of all namespaces cannot be listed, or a peer's class cannot be read", async () => {
    const hidden = cluster();
    hidden.forbidden.add(`${ING}/ingresses`);
    const state = await run(hidden, grouped);
    expect(state.preflightWarnings).toEqual([expect.stringContaining("list on ingresses (apiGroup networking.k8s.io)")]);

    const unreadable = peer(cluster(), "web", "site", { [`${A}group.name`]: "shared", [`${A}scheme`]: "internal" }, { className: "team" });
    unreadable.forbidden.add(`${ING}/ingressclasses/team`);
    const second = await run(unreadable, grouped);
    expect(second.preflightWarnings).toEqual([expect.stringContaining("IngressClass (or its IngressClassParams) of web/site")]);
  });
});

describe("the readiness-gate advisory", () => {
  it("warns about pods without the gate, with the namespace label and the restart", async () => {
    const state = await run(cluster({ podGated: false }));
    expect(state.preflightWarnings).toHaveLength(1);
    expect(state.preflightWarnings[0]).toContain("1 of the 1 pods of Service milvus/milvus-demo have no AWS Load Balancer Controller readiness gate");
    expect(state.preflightWarnings[0]).toContain("kubectl label namespace milvus elbv2.k8s.aws/pod-readiness-gate-inject=enabled");
    expect(state.preflightWarnings[0]).toContain("rollout restart");
    expect(state.changed).toBe(true);
  });

  it("says the pods must be recreated when the namespace already has the label", async () => {
    const kube = cluster({ podGated: false }).put("/api/v1/namespaces/milvus", {
      metadata: { name: "milvus", labels: { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" } },
    });
    const [warning] = (await run(kube)).preflightWarnings;
    expect(warning).toContain("already has elbv2.k8s.aws/pod-readiness-gate-inject=enabled");
    expect(warning).not.toContain("kubectl label namespace");
  });

  it("phrases it for EKS Auto Mode, which injects no gate", async () => {
    const kube = withParams(cluster({ podGated: false }), {}, "eks.amazonaws.com/alb");
    const [warning] = (await run(kube)).preflightWarnings;
    expect(warning).toContain("EKS Auto Mode does not inject that gate");
    expect(warning).toContain("minReadySeconds");
  });

  it("lists only the Service's pods, and warns when they cannot be listed", async () => {
    const kube = cluster();
    await run(kube);
    expect(kube.calls).toContain("LIST /api/v1/namespaces/milvus/pods?labelSelector=app.kubernetes.io/instance=milvus-demo,app.kubernetes.io/component=proxy");
    const hidden = cluster({ podGated: false });
    hidden.forbidden.add("/api/v1/namespaces/milvus/pods");
    const state = await run(hidden);
    expect(state.preflightWarnings).toEqual([expect.stringContaining("could not read the pods of Service milvus/milvus-demo (forbidden)")]);
  });
});

describe("a terminating Ingress", () => {
  const terminating = (kube: FakeCluster) =>
    kube.put(OUR_INGRESS, {
      kind: "Ingress",
      metadata: {
        name: "milvus-demo",
        namespace: "milvus",
        labels: { "app.kubernetes.io/managed-by": "milvus-l7" },
        deletionTimestamp: "2026-01-01T00:00:00Z",
        finalizers: ["ingress.k8s.aws/resources"],
      },
    });

  it("is waited out, then the Ingress is applied", async () => {
    const kube = terminating(cluster());
    kube.watchEvents = [
      () => {
        const gone = kube.objects.get(OUR_INGRESS) as Obj;
        kube.objects.delete(OUR_INGRESS);
        return { type: "DELETED", object: gone };
      },
    ];
    const state = await run(kube, target(), { terminatingWaitSeconds: 5 });
    expect(kube.calls.indexOf(`WATCH ${ING}/namespaces/milvus/ingresses`)).toBeLessThan(kube.calls.indexOf(`PATCH ${OUR_INGRESS}`));
    expect(state.changed).toBe(true);
    expect(kube.objects.get(OUR_INGRESS)?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it("still there after the wait: a retryable error naming it, its finalizer, where to look, and what removing the finalizer leaves behind", async () => {
    const kube = terminating(cluster());
    const error = await run(kube, target(), { terminatingWaitSeconds: 1 }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: "KubernetesUnavailable", retryable: true });
    const message = (error as Error).message;
    expect(message).toContain("Ingress milvus/milvus-demo is being deleted");
    expect(message).toContain("ingress.k8s.aws/resources");
    expect(message).toContain("kubectl -n kube-system logs deploy/aws-load-balancer-controller");
    expect(message).toContain("Do not remove the finalizer");
    expect(message).toContain("unmanaged and still billed");
    expect(kube.writes).toEqual([]);
  });

  it("is checked after the preflight: a refusal still comes first, without waiting", async () => {
    const kube = terminating(cluster({ serviceAnnotations: { [`${A}backend-protocol-version`]: "HTTP1" } }));
    await expectRefused(kube, target(), "backend-protocol-version: HTTP1");
    expect(kube.calls.some((c) => c.startsWith("WATCH"))).toBe(false);
  });
});

describe("preflight warnings in the run's summary", () => {
  it("reach TargetSummary.warnings through $.ingress, before the cutover's and verification's", async () => {
    const state = await run(cluster({ podGated: false }));
    const summary = await recordDeployment(
      {
        target: target(),
        certificate: { arn: CERT, fingerprint256: "AA", notAfter: "2027-01-01T00:00:00Z", imported: true, daysToExpiry: 30, trustAnchors: [] },
        certificateRequest: {},
        verification: {
          host: "milvus-demo.milvus.io",
          albHostname: "k8s-milvus.elb.amazonaws.com",
          address: "10.0.0.1:443",
          addresses: ["10.0.0.1:443"],
          servedFingerprint256: "AA",
          servedNotAfter: "2027-01-01T00:00:00Z",
          milvusVersion: "v2.5.4",
          healthy: true,
          milvusAuth: "none",
          warnings: ["verification warning"],
        },
        service: { previousType: "LoadBalancer", type: "ClusterIP", changed: true, via: "service", warnings: ["cutover warning"] },
        ingress: state,
        executionArn: "arn:aws:states:us-east-2:123456789012:execution:milvus-l7:run",
      },
      { registry: { record: async () => {} } as never },
    );
    expect(summary.warnings).toEqual([state.preflightWarnings[0], "cutover warning", "verification warning"]);
    expect(summary.warnings[0]).toContain("readiness gate");
  });
});
