// IngressGroups: which Ingresses share one ALB. After kubernetes-sigs/aws-load-balancer-controller v3.5.0
// pkg/ingress/group_loader.go (group IDs, membership, order), pkg/ingress/group.go (IDs as reconcile keys),
// pkg/ingress/finalizer.go and pkg/shared_constants/finalizers.go (the group finalizers):
// - an explicit group comes from the IngressClassParams `group.name` (which wins) or the `group.name` annotation,
//   and its ALB is shared by every member; an Ingress without one is an implicit group of its own;
// - a member is an Ingress of the group that is not being deleted; an inactive member still carries the group's
//   finalizer (it left the group or is being deleted) and loses it once the group has been reconciled without it;
// - members are sorted by `group.order` (-1000..1000, default 0), then by `namespace/name`.
// Auto Mode ignores the `group.name` annotation ("Specify groups in IngressClass only"; guess: ignored, not refused).
import type { V1Ingress } from "@kubernetes/client-node";
import { int32, PREFIX } from "./annotation-grammar";
import { type ClassConfig, type ClassLoader, InvalidIngressClassError } from "./classes";
import { objectKey } from "./kube";

export const IMPLICIT_FINALIZER = "ingress.k8s.aws/resources";
export const EXPLICIT_FINALIZER_PREFIX = "group.ingress.k8s.aws/";

/** A group ID as the work-queue key: `namespace/name` for an implicit group, the bare name for an explicit one. */
export interface GroupId {
  explicit: boolean;
  /** The group name, or the Ingress's `namespace/name`. */
  key: string;
}

export const implicitGroup = (ns: string, name: string): GroupId => ({ explicit: false, key: objectKey(ns, name) });
export const explicitGroup = (name: string): GroupId => ({ explicit: true, key: name });
export const groupIdOfKey = (key: string): GroupId => ({ explicit: !key.includes("/"), key });

export function groupFinalizer(id: GroupId): string {
  return id.explicit ? `${EXPLICIT_FINALIZER_PREFIX}${id.key}` : IMPLICIT_FINALIZER;
}

export interface Member {
  ing: V1Ingress;
  config: ClassConfig;
}

export interface Group {
  id: GroupId;
  members: Member[];
  inactive: V1Ingress[];
}

/** errInvalidIngressGroup: an Ingress with an invalid group name is leaving any group it was in. */
class InvalidGroupError extends Error {
  constructor(detail: string) {
    super(`invalid ingress group: ${detail}`);
  }
}

const GROUP_NAME = /^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$/;

/** validateGroupName. */
function validateGroupName(name: string): void {
  if (!GROUP_NAME.test(name)) {
    throw new InvalidGroupError(
      "groupName must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    );
  }
  if (name.length > 63) throw new InvalidGroupError("groupName must be no more than 63 characters");
}

const keyOf = (ing: V1Ingress) => objectKey(ing.metadata?.namespace ?? "default", ing.metadata?.name ?? "");

export class GroupLoader {
  constructor(
    private readonly classes: ClassLoader,
    private readonly ingresses: ReadonlyMap<string, V1Ingress>,
    /** Auto Mode does not support the group.name annotation. */
    private readonly groupAnnotation: boolean,
  ) {}

  /** LoadGroupIDsPendingFinalization: the groups whose finalizer the Ingress carries. */
  pendingFinalization(ing: V1Ingress): GroupId[] {
    const out: GroupId[] = [];
    for (const f of ing.metadata?.finalizers ?? []) {
      if (f === IMPLICIT_FINALIZER) out.push(implicitGroup(ing.metadata?.namespace ?? "default", ing.metadata?.name ?? ""));
      else if (f.startsWith(EXPLICIT_FINALIZER_PREFIX)) out.push(explicitGroup(f.slice(EXPLICIT_FINALIZER_PREFIX.length)));
    }
    return out;
  }

  /** LoadGroupIDIfAny: undefined for an Ingress that is not ours or is being deleted. */
  async groupIdIfAny(ing: V1Ingress): Promise<GroupId | undefined> {
    return (await this.classifiedGroup(ing))?.id;
  }

  private async classifiedGroup(ing: V1Ingress): Promise<{ id: GroupId; config: ClassConfig } | undefined> {
    if (ing.metadata?.deletionTimestamp) return undefined;
    const { ours, config } = await this.classes.classify(ing);
    if (!ours) return undefined;
    return { id: this.groupIdOf(ing, config), config };
  }

  /** loadGroupID: IngressClassParams group, then the annotation, else the Ingress's own implicit group. */
  private groupIdOf(ing: V1Ingress, config: ClassConfig): GroupId {
    if (config.params?.group !== undefined) {
      validateGroupName(config.params.group);
      return explicitGroup(config.params.group);
    }
    const name = this.groupAnnotation ? ing.metadata?.annotations?.[`${PREFIX}group.name`] : undefined;
    if (name !== undefined) {
      validateGroupName(name);
      return explicitGroup(name);
    }
    return implicitGroup(ing.metadata?.namespace ?? "default", ing.metadata?.name ?? "");
  }

  /** Load: the group's members (sorted) and inactive members, from the Ingress cache. */
  async load(id: GroupId): Promise<Group> {
    const members: Member[] = [];
    const inactive: V1Ingress[] = [];
    const finalizer = groupFinalizer(id);
    for (const ing of this.ingresses.values()) {
      const hasFinalizer =
        (ing.metadata?.finalizers ?? []).includes(finalizer) && (id.explicit || keyOf(ing) === id.key);
      let found: { id: GroupId; config: ClassConfig } | undefined;
      try {
        found = await this.classifiedGroup(ing);
      } catch (e) {
        if (e instanceof InvalidIngressClassError) {
          // A member whose class broke stays in the group (the error stops the reconcile) rather than losing its ALB.
          if (hasFinalizer) throw new Error(`Ingress: ${keyOf(ing)}: Ingress has invalid IngressClass configuration: ${e.message}`);
          continue;
        }
        if (e instanceof InvalidGroupError) {
          if (hasFinalizer) inactive.push(ing);
          continue;
        }
        throw new Error(`Ingress: ${keyOf(ing)}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (found && found.id.key === id.key && found.id.explicit === id.explicit) members.push({ ing, config: found.config });
      else if (hasFinalizer) inactive.push(ing);
    }
    return { id, members: sortMembers(members), inactive };
  }
}

/** sortGroupMembers: by group.order, then by namespace/name. */
function sortMembers(members: Member[]): Member[] {
  const withOrder = members.map((m) => {
    const raw = m.ing.metadata?.annotations?.[`${PREFIX}group.order`];
    let order = 0;
    try {
      order = int32("group.order", raw) ?? 0;
    } catch (e) {
      throw new Error(`failed to load Ingress group order for ingress: ${keyOf(m.ing)}: ${(e as Error).message}`);
    }
    if (raw !== undefined && (order < -1000 || order > 1000)) {
      throw new Error(
        `explicit Ingress group order must be within [-1000:1000], Ingress: ${keyOf(m.ing)}, order: ${order}`,
      );
    }
    return { m, order };
  });
  withOrder.sort((x, y) => x.order - y.order || (keyOf(x.m.ing) < keyOf(y.m.ing) ? -1 : keyOf(x.m.ing) > keyOf(y.m.ing) ? 1 : 0));
  return withOrder.map((w) => w.m);
}
