// Server-side printing: `kubectl get` without -o asks for a meta.k8s.io Table and prints its columns as they
// come. Columns follow pkg/printers/internalversion/printers.go (kubernetes/kubernetes; README.md); other kinds get
// the default Name/Created At of staging/src/k8s.io/apiserver/pkg/registry/rest/table.go.
import type { Call } from "./call";
import type { Clock } from "./clock";
import { clone, dig, isObject, type Json, type JsonObject, str } from "./json";
import type { ResourceInfo } from "./resources";
import { portsOf } from "./strategy";

interface TableColumn {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (obj: JsonObject, now: number) => Json;
}

/** duration.HumanDuration, the AGE column. */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 120) return `${Math.max(seconds, 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 192) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 730) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

const nameColumn: TableColumn = { name: "Name", type: "string", format: "name", cell: (o) => String(dig(o, "metadata.name") ?? "") };
const ageColumn: TableColumn = {
  name: "Age",
  type: "string",
  cell: (o, now) => humanDuration(now - Date.parse(String(dig(o, "metadata.creationTimestamp") ?? ""))),
};

/** Hostnames and IPs of status.loadBalancer.ingress, comma-separated. */
function loadBalancerAddresses(obj: JsonObject): string {
  const ingress = dig(obj, "status.loadBalancer.ingress");
  return (Array.isArray(ingress) ? ingress.filter(isObject) : [])
    .map((i) => str(i.ip) ?? str(i.hostname) ?? "")
    .filter((a) => a !== "")
    .join(",");
}

const TABLE_COLUMNS: Record<string, TableColumn[]> = {
  Service: [
    nameColumn,
    { name: "Type", type: "string", cell: (o) => String(dig(o, "spec.type") ?? "") },
    { name: "Cluster-IP", type: "string", cell: (o) => String(dig(o, "spec.clusterIP") ?? "<none>") },
    {
      name: "External-IP",
      type: "string",
      cell: (o) => {
        const external = dig(o, "spec.externalIPs");
        const addresses = [loadBalancerAddresses(o), ...(Array.isArray(external) ? external.map(String) : [])].filter(Boolean);
        if (addresses.length > 0) return addresses.join(",");
        return dig(o, "spec.type") === "LoadBalancer" ? "<pending>" : "<none>";
      },
    },
    {
      name: "Port(s)",
      type: "string",
      cell: (o) => {
        const ports = portsOf(isObject(o.spec) ? o.spec : {});
        if (ports.length === 0) return "<none>";
        return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
      },
    },
    ageColumn,
    {
      name: "Selector",
      type: "string",
      priority: 1,
      cell: (o) => {
        const selector = dig(o, "spec.selector");
        if (!isObject(selector) || Object.keys(selector).length === 0) return "<none>";
        return Object.entries(selector)
          .map(([k, v]) => `${k}=${String(v)}`)
          .sort()
          .join(",");
      },
    },
  ],
  Ingress: [
    nameColumn,
    { name: "Class", type: "string", cell: (o) => String(dig(o, "spec.ingressClassName") ?? "<none>") },
    {
      name: "Hosts",
      type: "string",
      cell: (o) => {
        const rules = dig(o, "spec.rules");
        const hosts = (Array.isArray(rules) ? rules : []).map((r) => str(dig(r, "host")) ?? "*");
        return hosts.length > 0 ? hosts.join(",") : "*";
      },
    },
    { name: "Address", type: "string", cell: (o) => loadBalancerAddresses(o) },
    {
      name: "Ports",
      type: "string",
      cell: (o) => (Array.isArray(dig(o, "spec.tls")) && (dig(o, "spec.tls") as Json[]).length > 0 ? "80, 443" : "80"),
    },
    ageColumn,
  ],
  Namespace: [nameColumn, { name: "Status", type: "string", cell: (o) => String(dig(o, "status.phase") ?? "") }, ageColumn],
};

const DEFAULT_COLUMNS: TableColumn[] = [
  nameColumn,
  { name: "Created At", type: "date", cell: (o) => String(dig(o, "metadata.creationTimestamp") ?? "") },
];

/** The Table version the Accept header asks for ("v1" or "v1beta1"), if it asks for one. */
function tableVersion(accept: string | undefined): string | undefined {
  for (const range of (accept ?? "").split(",")) {
    const params = new Map(
      range
        .split(";")
        .slice(1)
        .map((p) => p.trim().split("=") as [string, string]),
    );
    if (params.get("as") === "Table" && params.get("g") === "meta.k8s.io") return params.get("v") ?? "v1";
  }

  return undefined;
}

export interface TableOptions {
  version: string;
  /** includeObject=Object|Metadata|None; the apiserver defaults to Metadata (a PartialObjectMetadata). */
  includeObject: string;
  headers: boolean;
  now: number;
}

export function toTable(info: ResourceInfo, objects: JsonObject[], resourceVersion: string, opts: TableOptions): JsonObject {
  const columns = TABLE_COLUMNS[info.kind] ?? DEFAULT_COLUMNS;
  const rowObject = (obj: JsonObject): Json => {
    if (opts.includeObject === "Object") return obj;
    if (opts.includeObject === "None") return null;
    return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${opts.version}`, metadata: clone(obj.metadata ?? {}) };
  };
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: { resourceVersion },
    columnDefinitions: opts.headers
      ? columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: "", priority: c.priority ?? 0 }))
      : [],
    rows: objects.map((obj) => ({ cells: columns.map((c) => c.cell(obj, opts.now)), object: rowObject(obj) })),
  };
}

/** The Table a request's Accept header asks for, if it asks for one. */
export function requestedTable(call: Call, clock: Clock): TableOptions | undefined {
  const version = tableVersion(call.req.headers.accept);
  if (!version) return undefined;
  const includeObject = call.url.searchParams.get("includeObject") ?? "Metadata";
  return { version, includeObject, headers: true, now: clock.date().getTime() };
}
