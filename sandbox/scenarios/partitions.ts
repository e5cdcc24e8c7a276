// AWS partitions: China (and GovCloud) regions are partitions of their own, with their own endpoints. An EKS cluster
// there authenticates only tokens presigned for its partition's STS host, and its ALBs' names end in the
// partition's domain.
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

const CHINA_REGION = "cn-north-1";

export const chinaRegion: Scenario = {
  name: "china-region",
  summary:
    "a deployment in cn-north-1 (partition aws-cn): the EKS token is presigned for sts.cn-north-1.amazonaws.com.cn, the only STS host the cluster's authenticator accepts there, and the ALB's name ends in .amazonaws.com.cn",
  sandbox: { region: CHINA_REGION },
  async run(sandbox, ctx) {
    const { secretArn } = await demoSecret(sandbox);
    ctx.say(
      `The cluster runs in ${CHINA_REGION}: its aws-iam-authenticator is set up for partition aws-cn and refuses tokens presigned for a commercial STS host`,
    );
    const request = sandbox.request(secretArn) as { cluster: { region: string } };
    const namespacePath = `/namespaces/${DEMO_TARGET.namespace}/`;
    const deployed = await observedRun(sandbox, ctx, "deployment", request, async () => {
      const calls = sandbox.kube.requests.filter((r) => r.path.includes(namespacePath));
      return {
        region: request.cluster.region,
        kubernetesRequests: calls.length,
        refusedTokens: calls.filter((r) => r.authError).map((r) => r.authError),
      };
    });
    return [deployed];
  },
};
