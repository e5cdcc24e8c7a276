// Least-privilege cluster access: the cluster's owner applies what `milvus-l7 rbac --namespace milvus` prints with
// the real kubectl, and the Lambdas' EKS access entry carries the group milvus-l7 and no access policy
// (`-c kubernetesAccess=rbac`), so that the stand-in's RBAC authorizer decides every request. The whole workflow
// succeeds; the preflight's cluster-wide reads are refused and become warnings, until `--cluster-read` is applied.
import { DEFAULT_KUBERNETES_GROUP, certificateReaderGroup, rbacYaml } from "../../functions/lib/kubernetes-access";
import type { Sandbox } from "../index";
import { kubectlApply } from "../kube";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

/** The requests of IAM principals (not the controllers' service accounts) the apiserver refused since `from`. */
export function forbiddenSince(sandbox: Sandbox, from: number): string[] {
  return sandbox.kube.requests
    .slice(from)
    .filter((r) => r.status === 403 && !r.user?.startsWith("system:serviceaccount:"))
    .map((r) => `${r.method} ${r.path}${r.query.watch ? " (watch)" : ""}`);
}

/** Applies `milvus-l7 rbac` output as the cluster's admin, and puts the product's identity under RBAC alone. */
export async function grantRbac(sandbox: Sandbox, yaml: string): Promise<string[]> {
  const applied = await kubectlApply(sandbox.kube, sandbox.kubeAdminToken, yaml);
  // Every step signs with the same IAM principal in the sandbox; the stack gives import-certificate a role of its
  // own, whose access entry alone has the certificate readers' group.
  sandbox.kube.setAccessScope({ kubernetesGroups: [DEFAULT_KUBERNETES_GROUP, certificateReaderGroup()] });
  return applied;
}

export const rbac: Scenario = {
  name: "rbac",
  summary:
    "least privilege: kubectl applies the Role `milvus-l7 rbac --namespace milvus` prints, the access entry has group milvus-l7 and no access policy, and the whole workflow succeeds (the preflight's cluster reads become warnings until --cluster-read is applied)",
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn);
    const applied = await grantRbac(sandbox, rbacYaml({ namespaces: [DEMO_TARGET.namespace] }));
    ctx.say(`milvus-l7 rbac --namespace ${DEMO_TARGET.namespace} | kubectl apply -f -: ${applied.join(", ")}`);
    ctx.say(`The Lambdas' EKS access entry has the Kubernetes group ${DEFAULT_KUBERNETES_GROUP} and no access policy: only that Role grants them anything`);
    try {
      let from = sandbox.kube.requests.length;
      const deployed = await observedRun(sandbox, ctx, "deployment under the least-privilege Role", request, async () => ({
        lambdaAccess: `RBAC group ${DEFAULT_KUBERNETES_GROUP}, Role ${DEMO_TARGET.namespace}/milvus-l7`,
        refusedRequests: forbiddenSince(sandbox, from),
      }));

      const clusterRead = await kubectlApply(
        sandbox.kube,
        sandbox.kubeAdminToken,
        rbacYaml({ namespaces: [DEMO_TARGET.namespace], clusterRead: true }),
      );
      ctx.say(`milvus-l7 rbac --namespace ${DEMO_TARGET.namespace} --cluster-read | kubectl apply -f -: ${clusterRead.join(", ")}`);
      from = sandbox.kube.requests.length;
      const rerun = await observedRun(sandbox, ctx, "re-run with the read-only ClusterRole", request, async () => ({
        lambdaAccess: `RBAC group ${DEFAULT_KUBERNETES_GROUP}, Role ${DEMO_TARGET.namespace}/milvus-l7 and ClusterRole milvus-l7-cluster-read`,
        refusedRequests: forbiddenSince(sandbox, from),
      }));
      return [deployed, rerun];
    } finally {
      sandbox.kube.setAccessScope("cluster");
    }
  },
};
