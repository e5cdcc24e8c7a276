// The ALB controller stand-in's IngressGroups, against the kube-apiserver stand-in, on a cluster where the Helm
// chart's webhook is disabled (webhook: false), so an Ingress of a missing class reaches the controller.
import type { NetworkingV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { AlbController } from "../../sandbox/alb";
import { eventually, grpcAnnotations, NS, useAlbSandbox } from "./alb-harness";

const HOST = "groups.example.com";

const sandbox = useAlbSandbox(HOST);
const { ingress, apply, hostnameOf, eventsFor, gone } = sandbox;
let alb: AlbController;
let networking: NetworkingV1Api;
let certArn: string;

beforeAll(async () => {
  ({ networking, certArn } = sandbox);
  alb = await sandbox.startController({ publishDelayMs: 100, healthyDelayMs: 100, webhook: false });
});

const member = (name: string, extra: Record<string, string> = {}) =>
  ingress(name, grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn, "alb.ingress.kubernetes.io/group.name": "shared", ...extra }));

describe("without the webhook", () => {
  it("an Ingress of a class that does not exist is written, then ignored with a FailedLoadGroupID warning", async () => {
    await apply(ingress("no-class", grpcAnnotations(), { cls: "nope" }));
    const event = await eventually("FailedLoadGroupID", async () =>
      (await eventsFor("no-class")).find((e) => e.reason === "FailedLoadGroupID"),
    );
    expect(event).toMatchObject({
      type: "Warning",
      message: 'failed load groupID due to invalid ingress class: ingressclasses.networking.k8s.io "nope" not found',
    });
    expect(await hostnameOf("no-class")).toBeUndefined();
    expect((await networking.readNamespacedIngress({ name: "no-class", namespace: NS })).metadata?.finalizers).toBeUndefined();
  });
});

describe("IngressGroups", () => {
  let shared: string;

  it("members of one group.name share one ALB and carry the group's finalizer", async () => {
    await apply(member("team-a"));
    await apply(member("team-b", { "alb.ingress.kubernetes.io/group.order": "-5" }));
    shared = await eventually("the team-a hostname", () => hostnameOf("team-a"));
    await eventually("the same hostname on team-b", async () => (await hostnameOf("team-b")) === shared);
    expect(shared).toMatch(/^internal-k8s-shared-[0-9a-f]{10}-\d+\.us-east-2\.elb\.amazonaws\.com$/);
    const b = await networking.readNamespacedIngress({ name: "team-b", namespace: NS });
    expect(b.metadata?.finalizers).toEqual(["group.ingress.k8s.aws/shared"]);
    expect(alb.listeners().filter((l) => l.group === "shared").map((l) => l.name)).toEqual(["team-b", "team-a"]);
  });

  it("a member disagreeing on ssl-policy fails the whole group: FailedBuildModel on every member", async () => {
    await apply(member("team-a", { "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" }));
    await apply(member("team-c", { "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-2016-08" }));
    const expected =
      "Failed build model due to failed to merge listenPort config for port: 443: conflicting sslPolicy, milvus/team-a: ELBSecurityPolicy-TLS13-1-2-2021-06 | milvus/team-c: ELBSecurityPolicy-2016-08";
    for (const name of ["team-a", "team-b", "team-c"]) {
      const event = await eventually(`FailedBuildModel on ${name}`, async () =>
        (await eventsFor(name)).find((e) => e.reason === "FailedBuildModel" && e.message === expected),
      );
      expect(event.type).toBe("Warning");
    }
    // The ALB keeps its last good configuration; the newcomer never gets it.
    expect(await hostnameOf("team-c")).toBeUndefined();
    expect(alb.resolve(shared)).not.toEqual([]);
  });

  it("members disagreeing on scheme fail with the controller's set text", async () => {
    await apply(member("team-b", { "alb.ingress.kubernetes.io/group.order": "-5", "alb.ingress.kubernetes.io/scheme": "internal" }));
    await apply(member("team-c", { "alb.ingress.kubernetes.io/scheme": "internet-facing" }));
    const expected = "Failed build model due to conflicting scheme: map[internal:{} internet-facing:{}]";
    await eventually("the scheme conflict on team-b", async () =>
      (await eventsFor("team-b")).find((e) => e.reason === "FailedBuildModel" && e.message === expected),
    );
  });

  it("a member leaving the group gets its own ALB and the group reconciles again", async () => {
    await apply(ingress("team-c", grpcAnnotations({ "alb.ingress.kubernetes.io/certificate-arn": certArn })));
    const own = await eventually("team-c's own hostname", () => hostnameOf("team-c"));
    expect(own).not.toBe(shared);
    // The group drops its finalizer from the leaver once it has reconciled without it.
    await eventually("only the implicit finalizer on team-c", async () => {
      const c = await networking.readNamespacedIngress({ name: "team-c", namespace: NS });
      return JSON.stringify(c.metadata?.finalizers) === JSON.stringify(["ingress.k8s.aws/resources"]);
    });
  });

  it("deleting one member keeps the ALB for the others; deleting the last deletes it", async () => {
    await apply(member("team-a"));
    await eventually("a reconciled group", async () =>
      (await eventsFor("team-a")).some((e) => e.reason === "SuccessfullyReconciled" && (e.count ?? 0) >= 2),
    );
    await networking.deleteNamespacedIngress({ name: "team-a", namespace: NS });
    await eventually("team-a gone", () => gone("team-a"));
    expect(alb.resolve(shared)).not.toEqual([]);
    expect(await hostnameOf("team-b")).toBe(shared);
    await networking.deleteNamespacedIngress({ name: "team-b", namespace: NS });
    await eventually("team-b gone", () => gone("team-b"));
    expect(alb.resolve(shared)).toEqual([]);
  });
});
