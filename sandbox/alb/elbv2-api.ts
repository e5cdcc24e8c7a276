// The ELBv2 API of the simulated ALBs, as the AWS Query protocol serves it: POST form-encoded `Action=…&Version=
// 2015-12-01`, XML answers in the 2015-12-01 namespace, errors as `<ErrorResponse>` with HTTP 400 (ELBv2 API
// reference: DescribeLoadBalancers, DescribeTargetGroups, DescribeTargetHealth, "Common Errors"; the shapes are the
// API's, so the real @aws-sdk/client-elastic-load-balancing-v2 parses them). Read-only: the controller's own writes
// stay inside the simulator. Requests are not authenticated.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AlbFault } from "./api";
import { type TargetHealth, targetHealth } from "./data-plane";
import type { LoadBalancerRecord, TargetGroupRecord } from "./target-group-bindings";

const NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
/** The VPC every simulated ALB and target group is in. */
const VPC_ID = "vpc-0a1b2c3d4e5f60718";

export interface Elbv2ApiDeps {
  loadBalancers: () => LoadBalancerRecord[];
  fault: () => AlbFault;
  /** The registered target of a target group (the pod IP and port target-type ip registers), if any. */
  targetFor: (tg: TargetGroupRecord) => { host: string; port: number } | undefined;
}

export interface Elbv2Api {
  endpoint: string;
  close(): Promise<void>;
}

class ElbError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** An XML element per defined field; arrays become `<member>` lists, objects nested structures. */
function xml(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map((v) => `<member>${xml(v)}</member>`).join("");
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
      .join("");
  }
  return xmlEscape(String(value));
}

/** `Names.member.1=a&Names.member.2=b` → ["a", "b"]. */
function members(params: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${name}.member.${i}`); i++) out.push(params.get(`${name}.member.${i}`) ?? "");
  return out;
}

function describeLoadBalancer(r: LoadBalancerRecord) {
  return {
    LoadBalancerArn: r.arn,
    DNSName: r.lb.hostname,
    CanonicalHostedZoneId: "Z3AADJGX6KTTL2",
    CreatedTime: new Date(r.lb.publishAt).toISOString(),
    LoadBalancerName: r.lb.name,
    Scheme: r.lb.scheme,
    VpcId: VPC_ID,
    State: { Code: r.lb.published || Date.now() >= r.lb.publishAt ? "active" : "provisioning" },
    Type: "application",
    IpAddressType: "ipv4",
  };
}

function describeTargetGroup(tg: TargetGroupRecord, lbArn: string) {
  const grpc = tg.spec.protocolVersion === "GRPC";
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.spec.protocol,
    Port: tg.spec.servicePort,
    VpcId: VPC_ID,
    HealthCheckProtocol: tg.spec.protocol,
    HealthCheckPort: "traffic-port",
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: 15,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 2,
    UnhealthyThresholdCount: 2,
    HealthCheckPath: tg.spec.healthCheckPath,
    Matcher: grpc ? { GrpcCode: tg.spec.successCodes } : { HttpCode: tg.spec.successCodes },
    LoadBalancerArns: [lbArn],
    TargetType: tg.spec.targetType,
    ProtocolVersion: tg.spec.protocolVersion,
    IpAddressType: "ipv4",
  };
}

function describeHealth(health: TargetHealth) {
  return { State: health.state, Reason: health.reason, Description: health.description };
}

export function startElbv2Api(deps: Elbv2ApiDeps): Promise<Elbv2Api> {
  const findGroup = (arn: string) => {
    for (const r of deps.loadBalancers()) {
      const tg = r.targetGroups.find((t) => t.arn === arn);
      if (tg) return { record: r, tg };
    }
    throw new ElbError("TargetGroupNotFound", `Target groups '${arn}' not found`);
  };

  const actions: Record<string, (p: URLSearchParams) => Record<string, unknown>> = {
    DescribeLoadBalancers(p) {
      const arns = members(p, "LoadBalancerArns");
      const names = members(p, "Names");
      let found = deps.loadBalancers();
      if (arns.length > 0) {
        const missing = arns.filter((a) => !found.some((r) => r.arn === a));
        if (missing.length > 0) throw new ElbError("LoadBalancerNotFound", `Load balancers '[${missing.join(", ")}]' not found`);
        found = found.filter((r) => arns.includes(r.arn));
      }
      if (names.length > 0) {
        const missing = names.filter((n) => !found.some((r) => r.lb.name === n));
        if (missing.length > 0) throw new ElbError("LoadBalancerNotFound", `Load balancers '[${missing.join(", ")}]' not found`);
        found = found.filter((r) => names.includes(r.lb.name));
      }
      return { LoadBalancers: found.map(describeLoadBalancer) };
    },
    DescribeTargetGroups(p) {
      const lbArn = p.get("LoadBalancerArn");
      const arns = members(p, "TargetGroupArns");
      const names = members(p, "Names");
      let pairs = deps.loadBalancers().flatMap((r) => r.targetGroups.map((tg) => ({ tg, lbArn: r.arn })));
      if (lbArn) {
        if (!deps.loadBalancers().some((r) => r.arn === lbArn)) throw new ElbError("LoadBalancerNotFound", `Load balancer '${lbArn}' not found`);
        pairs = pairs.filter((x) => x.lbArn === lbArn);
      }
      if (arns.length > 0) {
        for (const a of arns) findGroup(a);
        pairs = pairs.filter((x) => arns.includes(x.tg.arn));
      }
      if (names.length > 0) {
        const missing = names.filter((n) => !pairs.some((x) => x.tg.name === n));
        if (missing.length > 0) throw new ElbError("TargetGroupNotFound", `One or more target groups not found`);
        pairs = pairs.filter((x) => names.includes(x.tg.name));
      }
      return { TargetGroups: pairs.map((x) => describeTargetGroup(x.tg, x.lbArn)) };
    },
    DescribeTargetHealth(p) {
      const arn = p.get("TargetGroupArn");
      if (!arn) throw new ElbError("ValidationError", "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null");
      const { record, tg } = findGroup(arn);
      const target = deps.targetFor(tg);
      if (!target) return { TargetHealthDescriptions: [] };
      const health = targetHealth(deps.fault(), record.lb.healthyAt.get(tg.key));
      return {
        TargetHealthDescriptions: [
          { Target: { Id: target.host, Port: target.port }, HealthCheckPort: String(target.port), TargetHealth: describeHealth(health) },
        ],
      };
    },
  };

  const respond = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const params = new URLSearchParams(text);
    const action = params.get("Action") ?? "";
    const requestId = randomUUID();
    try {
      const run = actions[action];
      if (!run || req.method !== "POST") throw new ElbError("InvalidAction", `Could not find operation ${action} for version 2015-12-01`);
      const result = run(params);
      respond(
        res,
        200,
        `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${xml(result)}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (e) {
      const code = e instanceof ElbError ? e.code : "InternalFailure";
      const message = e instanceof Error ? e.message : String(e);
      respond(
        res,
        e instanceof ElbError ? 400 : 500,
        `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${e instanceof ElbError ? "Sender" : "Receiver"}</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
