// `milvus-l7 rbac`: prints the least-privilege Kubernetes RBAC for the Lambdas' role as a YAML stream for
// `kubectl apply -f -`. The rules themselves are functions/lib/kubernetes-access.ts, one table with the step and
// call behind every verb; this file only reads the options and checks the names before anything is printed.
import { parseArgs } from "node:util";
import { DEFAULT_KUBERNETES_GROUP, rbacYaml } from "../functions/lib/kubernetes-access";
import type { CliIo } from "./io";

export function rbacUsage(): string {
  return `usage: milvus-l7 rbac --namespace NS [--namespace NS2]… [--secret NS/NAME]… [--group NAME] [--cluster-read]

Prints a Role and RoleBinding per Milvus namespace with exactly the verbs and resources the workflow's steps use,
bound to a Kubernetes group; pipe it to kubectl apply -f - (docs/deploy.md, "Granting cluster access").

  --namespace NS      a Milvus namespace the workflow deploys into (repeatable; at least one)
  --secret NS/NAME    a kubernetes.io/tls Secret a request names as certificate.source.kubernetesSecret: a Role in
                      NS allowing get on that Secret only (repeatable)
  --group NAME        the Kubernetes group to bind (default ${DEFAULT_KUBERNETES_GROUP}, what -c kubernetesGroup defaults to)
  --cluster-read      also a read-only ClusterRole for the preflight's cluster-wide checks (IngressClasses, their
                      IngressClassParams, Ingresses of other namespaces, Namespace labels); without it those checks
                      are warnings in the run's summary`;
}

const RBAC_OPTIONS = {
  namespace: { type: "string", multiple: true },
  secret: { type: "string", multiple: true },
  group: { type: "string" },
  "cluster-read": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

// RFC 1123 label (a namespace), subdomain (a Secret), and a group: any non-empty string without whitespace or ':'
// would do for Kubernetes, but a group from the EKS access entry API is at most 63 characters and may not start with
// `system:` (EKS: "kubernetesGroups ... can't start with system:").
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const GROUP = /^(?!system:)[^\s]{1,63}$/;

/** Exit codes: 0 printed, 2 usage (a missing or malformed option, named in the message). */
export function rbacCommand(args: readonly string[], io: CliIo): number {
  const usage = (message: string) => {
    io.stderr(`milvus-l7 rbac: ${message}\n${rbacUsage()}\n`);
    return 2;
  };
  let values: { namespace?: string[]; secret?: string[]; group?: string; "cluster-read"?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], allowPositionals: false, strict: true, options: RBAC_OPTIONS }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    io.stdout(`${rbacUsage()}\n`);
    return 0;
  }
  const namespaces = values.namespace ?? [];
  if (namespaces.length === 0) return usage("--namespace is required (the Milvus namespace the workflow deploys into)");
  const badNamespace = namespaces.find((ns) => !DNS_LABEL.test(ns));
  if (badNamespace !== undefined) return usage(`--namespace ${JSON.stringify(badNamespace)}: must be a Kubernetes namespace name (lowercase RFC 1123 label)`);
  const secrets: { namespace: string; name: string }[] = [];
  for (const value of values.secret ?? []) {
    const [namespace = "", name = "", ...rest] = value.split("/");
    if (rest.length > 0 || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) {
      return usage(`--secret ${JSON.stringify(value)}: must be NAMESPACE/NAME of a Secret (e.g. milvus/milvus-tls)`);
    }
    secrets.push({ namespace, name });
  }
  const group = values.group ?? DEFAULT_KUBERNETES_GROUP;
  if (!GROUP.test(group)) return usage(`--group ${JSON.stringify(group)}: must be 1 to 63 characters without spaces, not starting with system:`);
  io.stdout(rbacYaml({ namespaces, secrets, group, clusterRead: values["cluster-read"] ?? false }));
  return 0;
}
