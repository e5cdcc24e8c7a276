// The target groups of each deployed ALB as ELB knows them (names, ARNs, what the ELBv2 API stand-in answers), and
// the TargetGroupBindings the controller keeps for them in the Services' namespaces, through the Kubernetes API as
// the real controller does. After kubernetes-sigs/aws-load-balancer-controller:
// - pkg/ingress/model_build_target_group.go buildTargetGroupName (the name) and buildTargetGroupBindingSpec (the
//   binding: named like its target group, in the Service's namespace, spec targetGroupARN, targetType, serviceRef,
//   networking, ipAddressType);
// - pkg/deploy/tracking/provider.go StackLabels (the labels of an Ingress's stack);
// - the `elbv2.k8s.aws/resources` finalizer (pkg/shared_constants/finalizers.go) the TargetGroupBinding controller
//   keeps until it has deregistered the targets;
// - pkg/targetgroupbinding/networking_manager.go resolveEndpointSGForENI and resource_manager.go (the
//   FailedNetworkReconcile Warning whose message is the resolution error, from the `targetGroupBinding` recorder).
// What is modelled and what is not: README.md in this folder.
import { createHash } from "node:crypto";
import {
  ApiException,
  type CoreV1Api,
  type CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
} from "@kubernetes/client-node";
import type { AlbFault } from "./api";
import { EventRecorder } from "./events";
import type { LoadBalancer } from "./load-balancers";
import type { Model, TargetGroupSpec } from "./model";

/** pkg/shared_constants/finalizers.go: the TargetGroupBinding finalizer. */
export const TGB_FINALIZER = "elbv2.k8s.aws/resources";
const CRD = { group: "elbv2.k8s.aws", version: "v1beta1", plural: "targetgroupbindings" } as const;
/** The Ingress annotation naming an explicit IngressGroup. */
const GROUP_ANNOTATION = "alb.ingress.kubernetes.io/group.name";
const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** One target group ELB holds for a deployed ALB. */
export interface TargetGroupRecord {
  key: string;
  name: string;
  arn: string;
  spec: TargetGroupSpec;
}

/** One deployed ALB as the ELBv2 API stand-in describes it. */
export interface LoadBalancerRecord {
  arn: string;
  lb: LoadBalancer;
  targetGroups: TargetGroupRecord[];
  /** The stack's labels and the namespaces its bindings live in, for deleting them with the ALB. */
  labels: Record<string, string>;
  namespaces: string[];
}

export interface TargetGroupBindingsDeps {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  region: string;
  accountId: string;
  clusterName: string;
  fault: () => AlbFault;
  log: (m: string) => void;
}

const partitionOf = (region: string) => (region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws");
const hex = (...parts: string[]) => createHash("sha256").update(parts.join("\u0000")).digest("hex");

/** pkg/deploy/tracking/provider.go StackLabels with the `ingress.k8s.aws` prefix. */
export function stackLabels(ing: V1Ingress): Record<string, string> {
  const group = ing.metadata?.annotations?.[GROUP_ANNOTATION];
  if (group) return { "ingress.k8s.aws/stack": group };
  return { "ingress.k8s.aws/stack-namespace": ing.metadata?.namespace ?? "default", "ingress.k8s.aws/stack-name": ing.metadata?.name ?? "" };
}

/**
 * buildTargetGroupName: `k8s-<namespace ≤8>-<service ≤8>-<sha256 ≤10>` over the cluster, the group, the Ingress,
 * the Service port, the target type, protocol and protocol version. The Service's UID and the target port, which
 * the controller also hashes, are left out (the simulator does not read them here).
 */
export function targetGroupName(clusterName: string, ing: V1Ingress, tg: TargetGroupSpec): string {
  const ns = ing.metadata?.namespace ?? "default";
  const name = ing.metadata?.name ?? "";
  const groupId = ing.metadata?.annotations?.[GROUP_ANNOTATION] ?? `${ns}/${name}`;
  const digest = createHash("sha256")
    .update(clusterName)
    .update(groupId)
    .update(ns)
    .update(name)
    .update(String(tg.servicePort))
    .update(tg.targetType)
    .update(tg.protocol)
    .update(tg.protocolVersion)
    .digest("hex");
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, "").slice(0, 8);
  return `k8s-${clean(tg.namespace)}-${clean(tg.service)}-${digest.slice(0, 10)}`;
}

interface Binding {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; finalizers?: string[] };
}

export class TargetGroupBindings {
  private readonly records = new Map<string, LoadBalancerRecord>();
  /** The `targetGroupBinding` recorder: client-go's, like the Ingresses' (a repeat bumps `count`). */
  private readonly recorder: EventRecorder;

  constructor(private readonly deps: TargetGroupBindingsDeps) {
    this.recorder = new EventRecorder(deps.core, deps.log, "targetGroupBinding");
  }

  private arn(resource: string): string {
    const { region, accountId } = this.deps;
    return `arn:${partitionOf(region)}:elasticloadbalancing:${region}:${accountId}:${resource}`;
  }

  /** Every deployed ALB with its target groups: what DescribeLoadBalancers and DescribeTargetGroups list. */
  loadBalancers(): LoadBalancerRecord[] {
    return [...this.records.values()];
  }

  /** After a deploy: the target groups of the model, and a binding for each, created or kept; stale ones deleted. */
  async sync(key: string, ing: V1Ingress, lb: LoadBalancer, model: Model): Promise<void> {
    const labels = stackLabels(ing);
    const targetGroups = [...model.targetGroups.values()].map((spec) => {
      const name = targetGroupName(this.deps.clusterName, ing, spec);
      return { key: spec.key, name, arn: this.arn(`targetgroup/${name}/${hex(name, lb.name).slice(0, 16)}`), spec };
    });
    const namespaces = [...new Set([ing.metadata?.namespace ?? "default", ...targetGroups.map((tg) => tg.spec.namespace)])];
    const previous = this.records.get(key);
    this.records.set(key, {
      arn: this.arn(`loadbalancer/app/${lb.name}/${hex(lb.name, lb.hostname).slice(0, 16)}`),
      lb,
      targetGroups,
      labels,
      namespaces: [...new Set([...namespaces, ...(previous?.namespaces ?? [])])],
    });

    const wanted = new Set(targetGroups.map((tg) => `${tg.spec.namespace}/${tg.name}`));
    for (const namespace of namespaces) {
      for (const existing of await this.list(namespace, labels)) {
        const name = existing.metadata?.name ?? "";
        if (!wanted.has(`${namespace}/${name}`)) await this.delete(namespace, name);
      }
    }
    for (const tg of targetGroups) await this.ensure(tg, labels, lb);
    await this.reconcileNetworking();
  }

  /** With the ALB deleted: its bindings go, and their finalizers once the targets are deregistered. */
  async remove(key: string): Promise<void> {
    const record = this.records.get(key);
    this.records.delete(key);
    if (!record) return;
    for (const namespace of record.namespaces) {
      for (const existing of await this.list(namespace, record.labels)) await this.delete(namespace, existing.metadata?.name ?? "");
    }
  }

  /**
   * The TargetGroupBinding controller's networking step for every binding: with the `untagged-security-groups`
   * fault, resolveEndpointSGForENI finds no security group tagged for the cluster on the targets' ENI, and the
   * binding gets a FailedNetworkReconcile Warning with that error (the controller requeues, so it repeats).
   */
  async reconcileNetworking(): Promise<void> {
    if (this.deps.fault().unhealthyTargets !== "untagged-security-groups") return;
    const tag = `kubernetes.io/cluster/${this.deps.clusterName}`;
    for (const record of this.records.values()) {
      for (const tg of record.targetGroups) {
        const eni = `eni-${hex("eni", tg.arn).slice(0, 17)}`;
        const message = `expected exactly one securityGroup tagged with ${tag} for eni ${eni}, got: [] (clusterName: ${this.deps.clusterName})`;
        await this.warn(tg.spec.namespace, tg.name, "FailedNetworkReconcile", message);
      }
    }
  }

  private async list(namespace: string, labels: Record<string, string>): Promise<Binding[]> {
    const labelSelector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const list = (await this.deps.custom.listNamespacedCustomObject({ ...CRD, namespace, labelSelector })) as { items?: Binding[] };
    return list.items ?? [];
  }

  private async ensure(tg: TargetGroupRecord, labels: Record<string, string>, lb: LoadBalancer): Promise<void> {
    const namespace = tg.spec.namespace;
    const body = {
      apiVersion: `${CRD.group}/${CRD.version}`,
      kind: "TargetGroupBinding",
      metadata: { name: tg.name, namespace, labels, finalizers: [TGB_FINALIZER] },
      spec: {
        targetGroupARN: tg.arn,
        targetType: tg.spec.targetType,
        serviceRef: { name: tg.spec.service, port: tg.spec.servicePort },
        // The load balancer's backend security group may reach the targets on the traffic port (the managed
        // backend security group the controller creates; its id is the simulator's own).
        networking: {
          ingress: [
            {
              from: [{ securityGroup: { groupID: `sg-${hex("backend-sg", lb.name).slice(0, 17)}` } }],
              ports: [{ protocol: "TCP", port: tg.spec.servicePort }],
            },
          ],
        },
        ipAddressType: "ipv4",
      },
    };
    try {
      await this.deps.custom.createNamespacedCustomObject({ ...CRD, namespace, body });
    } catch (e) {
      // Already there (a previous reconcile): the spec the controller computes does not change for the same name.
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    }
  }

  private async delete(namespace: string, name: string): Promise<void> {
    const absent = (e: unknown) => {
      if (!(e instanceof ApiException && e.code === 404)) throw e;
    };
    await this.deps.custom.deleteNamespacedCustomObject({ ...CRD, namespace, name }).catch(absent);
    // The TargetGroupBinding controller deregisters the targets, then lets the object go.
    await this.deps.custom
      .patchNamespacedCustomObject({ ...CRD, namespace, name, body: { metadata: { finalizers: null } } }, mergePatch())
      .catch(absent);
  }

  private async warn(namespace: string, name: string, reason: string, message: string): Promise<void> {
    let uid: string | undefined;
    try {
      const binding = (await this.deps.custom.getNamespacedCustomObject({ ...CRD, namespace, name })) as Binding;
      uid = binding.metadata?.uid;
    } catch {
      // Gone meanwhile: the event still names it.
    }
    this.recorder.recordFor({ kind: "TargetGroupBinding", apiVersion: `${CRD.group}/${CRD.version}`, namespace, name, uid }, "Warning", reason, message);
    await this.recorder.flush();
  }
}
