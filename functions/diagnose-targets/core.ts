// Why the ALB answered 503 after every retry: reads ELB's target health for the Ingress's target groups and the
// controller's warnings on their TargetGroupBindings, and returns the caught error with its Cause extended by what
// they say. A diagnosis never fails the run in its own right: whatever it cannot read (RBAC, IAM, the API being
// down) is said in the Cause, and the caught error's name is kept, so the run ends as it would have without it.
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { ClusterConnector } from "../lib/kube";
import { type KubeClient, type KubeEvent, eventsPath } from "../lib/kube-client";
import type { Target } from "../lib/state";
import { adviceFor, byPriority } from "./advice";

/** What a Catch puts at `$.error`. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

export interface DiagnoseTargetsInput {
  target: Target;
  /** The ALB's DNS name (`$.ingress.hostname`); finds the target groups through ELB when the bindings cannot be read. */
  albHostname?: string;
  error: CaughtError;
}

export interface DiagnoseTargetsDeps {
  connect: ClusterConnector;
  /** An ELBv2 client for the cluster's region (the target groups live there, not necessarily in the Lambda's). */
  elbv2: (region: string) => Pick<ElasticLoadBalancingV2Client, "send">;
}

type Elbv2 = Pick<ElasticLoadBalancingV2Client, "send">;

/** The TargetGroupBinding fields read here (elbv2.k8s.aws/v1beta1, aws-load-balancer-controller apis/elbv2/v1beta1). */
export interface TargetGroupBinding {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: { targetGroupARN?: string; targetType?: string; serviceRef?: { name?: string; port?: number | string } };
}

export const targetGroupBindingsPath = (namespace: string) =>
  `/apis/elbv2.k8s.aws/v1beta1/namespaces/${namespace}/targetgroupbindings`;

/** A quoted message longer than this is cut: the Cause of a whole run is limited, and one line must not take it. */
const MAX_QUOTE = 400;
/** Target groups described at most: an Ingress for one Milvus Service has one. */
const MAX_TARGET_GROUPS = 5;
const GROUP_ANNOTATION = "alb.ingress.kubernetes.io/group.name";

const quote = (s: string) => (s.length > MAX_QUOTE ? `${s.slice(0, MAX_QUOTE)}…` : s);

function failure(e: unknown): string {
  const { name, message } = e as { name?: string; message?: string };
  return quote(`${name ?? "Error"}: ${message ?? String(e)}`);
}

/**
 * The labels the controller puts on the TargetGroupBindings of an Ingress's stack (pkg/deploy/tracking/provider.go
 * StackLabels): an explicit IngressGroup is `ingress.k8s.aws/stack: <group>`, an Ingress on its own is its namespace
 * and name.
 */
export function stackSelector(target: Target): string {
  const group = target.ingress.annotations[GROUP_ANNOTATION];
  return group
    ? `ingress.k8s.aws/stack=${group}`
    : `ingress.k8s.aws/stack-namespace=${target.namespace},ingress.k8s.aws/stack-name=${target.ingress.name}`;
}

/**
 * The start of the names the controller gives the Service's target groups and their bindings:
 * `k8s-<namespace ≤8>-<service ≤8>-<hash>` (pkg/ingress/model_build_target_group.go buildTargetGroupName), for
 * finding their events when the bindings themselves cannot be listed.
 */
export function targetGroupNamePrefix(target: Target): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, "").slice(0, 8);
  return `k8s-${clean(target.namespace)}-${clean(target.service.name)}-`;
}

interface Group {
  arn: string;
  /** The binding's name, when it was read. */
  binding?: string;
}

interface Findings {
  groups: Group[];
  /** What could not be read, each a sentence fragment. */
  unreadable: string[];
  bindingNames?: string[];
  /** Said when the bindings were listed and none binds the Service. */
  noBinding?: string;
}

function servesTarget(tgb: TargetGroupBinding, target: Target): boolean {
  const ref = tgb.spec?.serviceRef;
  return ref?.name === target.service.name && (ref.port === undefined || String(ref.port) === String(target.service.port));
}

async function groupsFromBindings(kube: KubeClient, target: Target, findings: Findings): Promise<void> {
  try {
    const list = await kube.list<TargetGroupBinding>(
      `list TargetGroupBindings in namespace ${target.namespace}`,
      targetGroupBindingsPath(target.namespace),
      { labelSelector: stackSelector(target) },
    );
    const bindings = list.items.filter((b) => servesTarget(b, target) && b.spec?.targetGroupARN);
    findings.bindingNames = bindings.map((b) => b.metadata?.name ?? "");
    for (const b of bindings) findings.groups.push({ arn: b.spec?.targetGroupARN ?? "", binding: b.metadata?.name });
    if (bindings.length === 0) {
      findings.noBinding = `No TargetGroupBinding in namespace ${target.namespace} (labels ${stackSelector(target)}) binds Service ${target.service.name} port ${target.service.port}: the controller has not (or no longer) deployed a target group for it; check the controller's Ingress events.`;
    }
  } catch (e) {
    findings.unreadable.push(`the TargetGroupBindings could not be listed (${failure(e)})`);
  }
}

/** The ALB's target groups through ELB, for when the bindings could not be read: DescribeLoadBalancers by DNS name. */
async function groupsFromLoadBalancer(elbv2: Elbv2, hostname: string, findings: Findings): Promise<void> {
  const wanted = hostname.toLowerCase().replace(/\.$/, "");
  try {
    let marker: string | undefined;
    let lbArn: string | undefined;
    do {
      const page = await elbv2.send(new DescribeLoadBalancersCommand({ Marker: marker }));
      lbArn = page.LoadBalancers?.find((lb) => lb.DNSName?.toLowerCase() === wanted)?.LoadBalancerArn;
      marker = page.NextMarker;
    } while (!lbArn && marker);
    if (!lbArn) {
      findings.unreadable.push(`ELB knows no load balancer named ${hostname} in this region`);
      return;
    }
    const tgs = await elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lbArn }));
    for (const tg of tgs.TargetGroups ?? []) if (tg.TargetGroupArn) findings.groups.push({ arn: tg.TargetGroupArn });
  } catch (e) {
    findings.unreadable.push(`the ALB's target groups could not be found through ELB either (${failure(e)})`);
  }
}

function eventTime(e: KubeEvent): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/** The latest Warning the controller recorded on the target's TargetGroupBindings. */
async function latestBindingWarning(kube: KubeClient, target: Target, findings: Findings): Promise<KubeEvent | undefined> {
  try {
    const events = await kube.list<KubeEvent>(`list events of TargetGroupBindings in namespace ${target.namespace}`, eventsPath(target.namespace), {
      fieldSelector: "involvedObject.kind=TargetGroupBinding,type=Warning",
    });
    const names = findings.bindingNames;
    const prefix = targetGroupNamePrefix(target);
    return events.items
      .filter((e) => e.type === "Warning")
      .filter((e) => (names ? names.includes(e.involvedObject.name ?? "") : (e.involvedObject.name ?? "").startsWith(prefix)))
      .sort((a, b) => eventTime(a) - eventTime(b))
      .at(-1);
  } catch (e) {
    findings.unreadable.push(`the TargetGroupBindings' events could not be listed (${failure(e)})`);
    return undefined;
  }
}

interface GroupHealth {
  group: Group;
  targets: TargetHealthDescription[];
}

/** One target group's health in words: counts, then each reason with ELB's description. */
function describeGroup({ group, targets }: GroupHealth): { text: string; reasons: string[] } {
  const name = group.arn.split(":").at(-1)?.replace(/^targetgroup\//, "") ?? group.arn;
  const label = `target group ${name}${group.binding ? ` (TargetGroupBinding ${group.binding})` : ""}`;
  if (targets.length === 0) {
    return { text: `${label}: no targets registered`, reasons: ["Target.NotRegistered"] };
  }
  const healthy = targets.filter((t) => t.TargetHealth?.State === "healthy").length;
  const byReason = new Map<string, { state: string; count: number; description?: string }>();
  for (const t of targets) {
    const state = t.TargetHealth?.State ?? "unknown";
    if (state === "healthy") continue;
    const reason = t.TargetHealth?.Reason ?? state;
    const entry = byReason.get(reason) ?? { state, count: 0, description: t.TargetHealth?.Description };
    entry.count += 1;
    byReason.set(reason, entry);
  }
  const reasons = [...byReason.keys()].sort(byPriority);
  const details = reasons.map((r) => {
    const e = byReason.get(r) as { state: string; count: number; description?: string };
    return `${e.count} ${e.state} with ${r}${e.description ? ` ("${quote(e.description)}")` : ""}`;
  });
  return { text: `${label}: ${healthy} of ${targets.length} targets healthy${details.length ? `; ${details.join(", ")}` : ""}`, reasons };
}

export async function diagnoseTargets(input: DiagnoseTargetsInput, deps: DiagnoseTargetsDeps): Promise<Required<CaughtError>> {
  const { target, error } = input;
  const findings: Findings = { groups: [], unreadable: [] };
  const elbv2 = deps.elbv2(target.cluster.region);

  let kube: KubeClient | undefined;
  try {
    kube = await deps.connect(target.cluster);
  } catch (e) {
    findings.unreadable.push(`the cluster could not be reached to read the TargetGroupBindings (${failure(e)})`);
  }
  if (kube) await groupsFromBindings(kube, target, findings);
  if (findings.groups.length === 0 && input.albHostname) await groupsFromLoadBalancer(elbv2, input.albHostname, findings);
  const warning = kube ? await latestBindingWarning(kube, target, findings) : undefined;

  const health: GroupHealth[] = [];
  for (const group of findings.groups.slice(0, MAX_TARGET_GROUPS)) {
    try {
      const out = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: group.arn }));
      health.push({ group, targets: out.TargetHealthDescriptions ?? [] });
    } catch (e) {
      findings.unreadable.push(`the health of ${group.arn} could not be read (${failure(e)})`);
    }
  }

  const parts: string[] = [];
  const described = health.map(describeGroup);
  const reasons = [...new Set(described.flatMap((d) => d.reasons))].sort(byPriority);
  if (findings.noBinding) parts.push(findings.noBinding);
  if (described.length > 0) {
    parts.push(`Target health (ELB DescribeTargetHealth): ${described.map((d) => d.text).join("; ")}.`);
  }
  if (warning) {
    parts.push(
      `Latest TargetGroupBinding warning (${warning.involvedObject.name}): ${warning.reason ?? ""}: ${quote(warning.message ?? "")}${(warning.count ?? 1) > 1 ? ` (${warning.count} times)` : ""}.`,
    );
  }
  if (reasons.length > 0) {
    parts.push(...reasons.map((r) => `For ${r}: ${adviceFor(r, target.cluster.name)}.`));
  } else if (described.length > 0) {
    parts.push(
      "Every target is healthy, so the ALB forwards to Milvus: the failure is past the target group (Milvus itself, or the listener rules' host and path), as the error above says.",
    );
  }
  if (findings.unreadable.length > 0) {
    parts.push(`Could not be read: ${findings.unreadable.join("; ")}.`);
  }
  const diagnosis = parts.join(" ");
  const original = error.Cause ?? "";
  return { Error: error.Error, Cause: diagnosis ? `${original}${original ? " " : ""}Diagnosis: ${diagnosis}` : original };
}
