// The sandbox's RBAC authorizer (sandbox/kube/rbac.ts) as kubernetes/kubernetes evaluates rules and bindings, and
// `milvus-l7 rbac`'s options and output.
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { rbacCommand } from "../../cli/rbac";
import { type RequestAttributes, rbacAllows, ruleAllows } from "../../sandbox/kube/rbac";
import type { JsonObject } from "../../sandbox/kube/json";
import { captured } from "../cli-io";

const attrs = (over: Partial<RequestAttributes> = {}): RequestAttributes => ({
  user: "arn:aws:sts::123456789012:assumed-role/milvus-l7/x",
  groups: ["milvus-l7", "system:authenticated"],
  verb: "get",
  apiGroup: "",
  resource: "services",
  namespace: "milvus",
  name: "milvus-demo",
  ...over,
});

describe("RuleAllows (pkg/apis/rbac/v1/evaluation_helpers.go)", () => {
  const rule = (r: JsonObject) => r;
  it("matches verbs, API groups and resources exactly or by *", () => {
    expect(ruleAllows(attrs(), rule({ apiGroups: [""], resources: ["services"], verbs: ["get"] }))).toBe(true);
    expect(ruleAllows(attrs({ verb: "patch" }), rule({ apiGroups: [""], resources: ["services"], verbs: ["get"] }))).toBe(false);
    expect(ruleAllows(attrs(), rule({ apiGroups: ["apps"], resources: ["services"], verbs: ["get"] }))).toBe(false);
    expect(ruleAllows(attrs(), rule({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }))).toBe(true);
  });

  it("needs the subresource named (or */status) for a subresource request", () => {
    const status = attrs({ apiGroup: "networking.k8s.io", resource: "ingresses", subresource: "status", verb: "patch" });
    expect(ruleAllows(status, rule({ apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["patch"] }))).toBe(false);
    expect(ruleAllows(status, rule({ apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["patch"] }))).toBe(true);
    expect(ruleAllows(status, rule({ apiGroups: ["networking.k8s.io"], resources: ["*/status"], verbs: ["patch"] }))).toBe(true);
    expect(ruleAllows(attrs({ apiGroup: "networking.k8s.io", resource: "ingresses" }), rule({ apiGroups: ["*"], resources: ["*/status"], verbs: ["*"] }))).toBe(false);
  });

  it("limits to resourceNames when the rule has them; a request without a name then does not match", () => {
    const secrets = rule({ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"], resourceNames: ["milvus-tls"] });
    expect(ruleAllows(attrs({ resource: "secrets", name: "milvus-tls" }), secrets)).toBe(true);
    expect(ruleAllows(attrs({ resource: "secrets", name: "other" }), secrets)).toBe(false);
    expect(ruleAllows(attrs({ resource: "secrets", verb: "list", name: undefined }), secrets)).toBe(false);
  });
});

describe("the RBAC authorizer (rbac.go, rule.go)", () => {
  const role = { metadata: { name: "milvus-l7", namespace: "milvus" }, rules: [{ apiGroups: [""], resources: ["services"], verbs: ["get"] }] };
  const binding = (subjects: JsonObject[], roleRef: JsonObject = { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "milvus-l7" }) => ({
    metadata: { name: "b", namespace: "milvus" },
    roleRef,
    subjects,
  });
  const store = (objects: Record<string, JsonObject[]>) => (kind: string, namespace?: string) =>
    (objects[kind] ?? []).filter((o) => namespace === undefined || (o.metadata as JsonObject).namespace === namespace);

  it("allows through a RoleBinding to one of the user's groups, in that namespace only", () => {
    const objects = store({ Role: [role], RoleBinding: [binding([{ kind: "Group", name: "milvus-l7" }])] });
    expect(rbacAllows(attrs(), objects)).toEqual({ allowed: true });
    expect(rbacAllows(attrs({ namespace: "default" }), objects)).toEqual({ allowed: false });
    expect(rbacAllows(attrs({ groups: ["system:authenticated"] }), objects)).toEqual({ allowed: false });
  });

  it("binds users by name and service accounts by namespace, defaulting to the binding's", () => {
    const objects = store({ Role: [role], RoleBinding: [binding([{ kind: "ServiceAccount", name: "ctl" }])] });
    expect(rbacAllows(attrs({ user: "system:serviceaccount:milvus:ctl", groups: [] }), objects).allowed).toBe(true);
    expect(rbacAllows(attrs({ user: "system:serviceaccount:other:ctl", groups: [] }), objects).allowed).toBe(false);
  });

  it("resolves a ClusterRole from a RoleBinding and a ClusterRoleBinding, and names a missing role as the reason", () => {
    const clusterRole = { metadata: { name: "read" }, rules: [{ apiGroups: ["networking.k8s.io"], resources: ["ingressclasses"], verbs: ["get"] }] };
    const crb = { metadata: { name: "read" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "read" }, subjects: [{ kind: "Group", name: "milvus-l7" }] };
    const cluster = attrs({ apiGroup: "networking.k8s.io", resource: "ingressclasses", namespace: undefined, name: "alb" });
    expect(rbacAllows(cluster, store({ ClusterRole: [clusterRole], ClusterRoleBinding: [crb] })).allowed).toBe(true);
    expect(rbacAllows(cluster, store({ ClusterRoleBinding: [crb] }))).toEqual({
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "read" not found',
    });
  });
});

describe("milvus-l7 rbac", () => {
  it("prints a Role and RoleBinding per namespace, a Secret Role by resourceNames, and the ClusterRole on request", () => {
    const io = captured();
    expect(rbacCommand(["--namespace", "milvus", "--namespace", "milvus-b", "--secret", "certs/milvus-tls", "--secret", "certs/other-tls", "--group", "platform", "--cluster-read"], io)).toBe(0);
    const docs = YAML.parseAllDocuments(io.out()).map((d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string }; rules?: unknown[]; subjects?: unknown[] });
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ""}/${d.metadata.name}`)).toEqual([
      "Role milvus/milvus-l7",
      "RoleBinding milvus/milvus-l7",
      "Role milvus-b/milvus-l7",
      "RoleBinding milvus-b/milvus-l7",
      "Role certs/milvus-l7-certificate-secrets",
      "RoleBinding certs/milvus-l7-certificate-secrets",
      "ClusterRole /milvus-l7-cluster-read",
      "ClusterRoleBinding /milvus-l7-cluster-read",
    ]);
    expect(docs[4]?.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["milvus-tls", "other-tls"] }]);
    expect(docs[1]?.subjects).toEqual([{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "platform" }]);
    // No write verb on anything but the Ingress, the Service and the Milvus CR; nothing on secrets in the Milvus namespace.
    const writes = ((docs[0]?.rules ?? []) as { resources: string[]; verbs: string[] }[]).filter((r) => r.verbs.some((v) => ["patch", "delete", "create", "update"].includes(v)));
    expect(writes.map((r) => r.resources[0])).toEqual(["services", "ingresses", "milvuses"]);
    expect(io.out()).not.toMatch(/"\*"|- "\*"|\bcreate\b|\bupdate\b/);
  });

  it.each([
    [[], /--namespace is required/],
    [["--namespace", "Milvus"], /--namespace "Milvus": must be a Kubernetes namespace name/],
    [["--namespace", "milvus", "--secret", "milvus-tls"], /--secret "milvus-tls": must be NAMESPACE\/NAME/],
    [["--namespace", "milvus", "--group", "system:masters"], /--group "system:masters": .*not starting with system:/],
    [["--namespace", "milvus", "--verbs", "all"], /Unknown option '--verbs'/],
  ])("refuses %j with a usage error naming the option", (args, message) => {
    const io = captured();
    expect(rbacCommand(args, io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.out()).toBe("");
  });
});
