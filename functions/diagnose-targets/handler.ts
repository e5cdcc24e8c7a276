import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { defaultClusterConnector } from "../lib/kube";
import { type DiagnoseTargetsDeps, type DiagnoseTargetsInput, diagnoseTargets } from "./core";

export const makeHandler = (deps: DiagnoseTargetsDeps) =>
  createHandler("diagnose-targets", (event: DiagnoseTargetsInput & StepEvent) => diagnoseTargets(event, deps));

/** One client per region a target's cluster is in, kept for the container's life. */
function elbv2PerRegion(): DiagnoseTargetsDeps["elbv2"] {
  const clients = new Map<string, ElasticLoadBalancingV2Client>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = new ElasticLoadBalancingV2Client({ region });
      clients.set(region, client);
    }
    return client;
  };
}

export const handler = builtOnFirstCall(() => makeHandler({ connect: defaultClusterConnector(), elbv2: elbv2PerRegion() }));
