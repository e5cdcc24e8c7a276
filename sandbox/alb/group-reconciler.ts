// One reconcile of one IngressGroup, after kubernetes-sigs/aws-load-balancer-controller v3.5.0
// controllers/ingress/group_controller.go (reconcile, buildAndDeployModel, recordIngressGroupEvent,
// updateIngressStatus) and pkg/ingress/finalizer.go + pkg/k8s/finalizer.go: load the group, add the group's
// finalizer to every member, build the model of the whole group (a failure is FailedBuildModel on every member),
// deploy it (FailedDeployModel on every member), publish the ALB's hostname in every member's status once it is
// provisioned, then drop the finalizer from the members that left, and report SuccessfullyReconciled on every
// member. A group without members loses its ALB. Which Ingress events queue which groups:
// controllers/ingress/eventhandlers/ingress_events.go (enqueueIfBelongsToGroup: the groups of its finalizers and
// its current group; a class it cannot load is a FailedLoadGroupID warning).
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiException,
  type NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Ingress,
} from "@kubernetes/client-node";
import type { AlbFault } from "./api";
import { errorText } from "./errors";
import type { EventRecorder } from "./events";
import { buildGroupModel } from "./group-model";
import { type Group, type GroupLoader, groupFinalizer, groupIdOfKey } from "./groups";
import { objectKey, stableJson } from "./kube";
import type { LoadBalancer, LoadBalancers } from "./load-balancers";
import type { Model, ModelSources } from "./model";

const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface GroupReconcilerDeps {
  networking: NetworkingV1Api;
  sources: ModelSources;
  recorder: EventRecorder;
  loadBalancers: LoadBalancers;
  /** The TargetGroupBindings of each deployed group (target-group-bindings.ts). */
  bindings: {
    sync(key: string, ing: V1Ingress, lb: LoadBalancer, model: Model): Promise<void>;
    remove(key: string): Promise<void>;
  };
  groups: GroupLoader;
  /** The informer's Ingress cache. */
  ingresses: ReadonlyMap<string, V1Ingress>;
  enqueue: (key: string, delayMs?: number) => void;
  fault: () => AlbFault;
  closed: () => boolean;
}

export class GroupReconciler {
  /** The members of each deployed group, by group key: which Ingress is served by which ALB. */
  readonly membersOf = new Map<string, string[]>();

  constructor(private readonly deps: GroupReconcilerDeps) {}

  /** enqueueIfBelongsToGroup. */
  async onIngressEvent(ing: V1Ingress): Promise<void> {
    const keys = new Set(this.deps.groups.pendingFinalization(ing).map((g) => g.key));
    try {
      const id = await this.deps.groups.groupIdIfAny(ing);
      if (id) keys.add(id.key);
    } catch (e) {
      this.deps.recorder.record(ing, "Warning", "FailedLoadGroupID", `failed load groupID due to ${errorText(e)}`);
    }
    for (const key of keys) this.deps.enqueue(key);
  }

  async reconcile(key: string): Promise<void> {
    const { recorder, loadBalancers } = this.deps;
    const group = await this.deps.groups.load(groupIdOfKey(key));
    const record = (type: "Normal" | "Warning", reason: string, message: string) => {
      for (const m of group.members) recorder.record(m.ing, type, reason, message);
    };

    try {
      for (const m of group.members) await this.patchFinalizers(m.ing, groupFinalizer(group.id), "add");
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      record("Warning", "FailedAddFinalizer", `Failed add finalizer due to ${errorText(e)}`);
      throw e;
    }

    if (group.members.length === 0) {
      // An empty stack: the deployer deletes the ALB.
      const hadAlb = loadBalancers.get(key) !== undefined;
      await loadBalancers.teardown(key);
      await this.deps.bindings.remove(key);
      // Only a deleted ALB leaves a security group to wait for: a later reconcile of the empty stack finds none.
      if (hadAlb) await this.securityGroupDeletion();
      this.membersOf.delete(key);
      await this.removeFinalizers(group);
      return;
    }

    let model: Model;
    try {
      model = await buildGroupModel(group, this.deps.sources);
    } catch (e) {
      record("Warning", "FailedBuildModel", `Failed build model due to ${errorText(e)}`);
      throw e;
    }
    if (this.deps.closed()) return;
    let lb: LoadBalancer;
    try {
      lb = await loadBalancers.deploy(key, model);
      await this.deps.bindings.sync(key, group.members[0]?.ing as V1Ingress, lb, model);
    } catch (e) {
      record("Warning", "FailedDeployModel", `Failed deploy model due to ${errorText(e)}`);
      throw e;
    }
    this.membersOf.set(
      key,
      group.members.map((m) => objectKey(m.ing.metadata?.namespace ?? "default", m.ing.metadata?.name ?? "")),
    );
    if (this.deps.closed()) return;

    // The ALB is still provisioning: come back when it is, as the real controller's reconcile would take that long.
    const wait = lb.publishAt - Date.now();
    if (wait > 0) {
      this.deps.enqueue(key, wait);
      return;
    }
    if (this.deps.fault().neverPublish) return;

    for (const m of group.members) {
      const k = objectKey(m.ing.metadata?.namespace ?? "default", m.ing.metadata?.name ?? "");
      const current = this.deps.ingresses.get(k) ?? m.ing;
      try {
        await this.publishStatus(current, lb, model);
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) continue;
        record("Warning", "FailedUpdateStatus", `Failed update status due to ${errorText(e)}`);
        throw e;
      }
    }
    lb.published = true;
    await this.removeFinalizers(group);
    record("Normal", "SuccessfullyReconciled", "Successfully reconciled");
  }

  /**
   * pkg/deploy/ec2/security_group_manager.go Delete: DeleteSecurityGroup retried every 2 s on DependencyViolation
   * (for up to 2 minutes) while the deleted ALB's network interfaces go, inside the reconcile, so the finalizer
   * stays until then. Lasts the `teardownDelayMs` fault (re-read, so clearing it ends the wait); nothing by default.
   */
  private async securityGroupDeletion(): Promise<void> {
    const started = Date.now();
    while (Date.now() - started < (this.deps.fault().teardownDelayMs ?? 0) && !this.deps.closed()) await sleep(50);
  }

  /** RemoveGroupFinalizer from the inactive members (FailedRemoveFinalizer on the members). */
  private async removeFinalizers(group: Group): Promise<void> {
    try {
      for (const ing of group.inactive) await this.patchFinalizers(ing, groupFinalizer(group.id), "remove");
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      const message = `Failed remove finalizer due to ${errorText(e)}`;
      for (const m of group.members) this.deps.recorder.record(m.ing, "Warning", "FailedRemoveFinalizer", message);
      throw e;
    }
  }

  /**
   * updateIngressStatus: Status().Patch(MergeFrom) of a single entry with the hostname and listener ports, only when
   * the status differs.
   */
  private async publishStatus(ing: V1Ingress, lb: LoadBalancer, model: Model): Promise<void> {
    const ports = [...model.listenPorts.keys()].sort((x, y) => x - y);
    const have = ing.status?.loadBalancer?.ingress ?? [];
    const upToDate =
      have.length === 1 &&
      have[0]?.hostname === lb.hostname &&
      !have[0]?.ip &&
      stableJson((have[0]?.ports ?? []).map((p) => p.port)) === stableJson(ports);
    if (upToDate) return;
    // The controller fills only IngressPortStatus.Port; Protocol has no omitempty, so Go sends "".
    const entry = { hostname: lb.hostname, ports: ports.map((port) => ({ port, protocol: "" })) };
    await this.deps.networking.patchNamespacedIngressStatus(
      {
        name: ing.metadata?.name ?? "",
        namespace: ing.metadata?.namespace ?? "default",
        body: { status: { loadBalancer: { ingress: [entry] } } },
      },
      mergePatch(),
    );
  }

  /** pkg/k8s/finalizer.go: Get, modify, merge patch with the resourceVersion as optimistic lock, retry on conflict. */
  private async patchFinalizers(ing: V1Ingress, finalizer: string, op: "add" | "remove"): Promise<void> {
    const has = (ing.metadata?.finalizers ?? []).includes(finalizer);
    if ((op === "add") === has) return;
    const name = ing.metadata?.name ?? "";
    const namespace = ing.metadata?.namespace ?? "default";
    const { networking } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const fresh = await networking.readNamespacedIngress({ name, namespace });
      const current = fresh.metadata?.finalizers ?? [];
      if ((op === "add") === current.includes(finalizer)) return;
      const next = op === "add" ? [...current, finalizer] : current.filter((f) => f !== finalizer);
      try {
        await networking.patchNamespacedIngress(
          { name, namespace, body: { metadata: { finalizers: next, resourceVersion: fresh.metadata?.resourceVersion } } },
          mergePatch(),
        );
        return;
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 409) || attempt >= 4) throw e;
        await sleep(10 * 2 ** attempt);
      }
    }
  }
}
