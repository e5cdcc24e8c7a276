// What the ALB controller stand-in's integration tests share: moto's ACM holding a certificate for the file's host,
// the kube-apiserver and Milvus stand-ins, controllers started against them, and the ways the tests drive and
// observe an Ingress (server-side apply, the status hostname, its Events) and an ALB node (TLS, raw gRPC).
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { ACMClient, ImportCertificateCommand } from "@aws-sdk/client-acm";
import {
  ApiException,
  type CoreV1Event,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  type V1Ingress,
} from "@kubernetes/client-node";
import { afterAll, beforeAll } from "vitest";
import { type AlbController, type AlbControllerOptions, startAlbController } from "../../sandbox/alb";
import { type KubeApiServer, seedMilvusRelease, startKubeApiServer } from "../../sandbox/kube";
import { type MilvusServer, startMilvusServer } from "../../sandbox/milvus-server";
import { type Moto, startMoto } from "../../sandbox/moto";
import { type CertificateSet, certificateSet } from "../../sandbox/pki";
import { kubeConfig, serverSideApply } from "../kube-api";

export const NS = "milvus";
/** The Helm release's Service (test/fixtures), port 19530 named "milvus". */
export const SERVICE = "milvus-demo";

/**
 * An Ingress of class `cls` (default `alb`) routing `host` to a Service's port 19530. Not ../kube-api's `ingress`:
 * that one adds `scheme: internet-facing`, and these tests rely on the controller's default scheme, internal.
 */
function albIngress(name: string, annotations: Record<string, string>, opts: { host: string; cls?: string; service?: string }): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: NS, annotations },
    spec: {
      ingressClassName: opts.cls ?? "alb",
      rules: [
        {
          host: opts.host,
          http: {
            paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: opts.service ?? SERVICE, port: { number: 19530 } } } }],
          },
        },
      ],
    },
  };
}

/** A gRPC backend behind an HTTPS:443 listener with target-type ip, the setup the workflow expects. */
export function grpcAnnotations(extra: Record<string, string> = {}): Record<string, string> {
  return {
    "alb.ingress.kubernetes.io/backend-protocol-version": "GRPC",
    "alb.ingress.kubernetes.io/target-type": "ip",
    "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
    ...extra,
  };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type AlbNode = { address: string; port: number };

/** Node `index` of the ALB behind `hostname`, from whichever of `controllers` serves it. */
export function albNode(controllers: AlbController | AlbController[], hostname: string, index = 0): AlbNode {
  for (const c of ([] as AlbController[]).concat(controllers)) {
    const nodes = c.resolve(hostname);
    if (nodes.length > 0) {
      const node = nodes[index];
      if (node) return node;
    }
  }
  throw new Error(`${hostname} does not resolve`);
}

/**
 * The SHA-256 fingerprint of the leaf a node serves for SNI `servername`, and the negotiated ALPN. Without `ca`
 * the chain is not verified (a renewal from a new root would not be trusted).
 */
export function handshake(node: AlbNode, servername: string, ca?: string): Promise<{ fingerprint: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: node.address,
      port: node.port,
      servername,
      ...(ca === undefined ? { rejectUnauthorized: false } : { ca }),
      ALPNProtocols: ["h2"],
    });
    socket.once("secureConnect", () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
      const alpn = socket.alpnProtocol ?? false;
      socket.destroy();
      resolve({ fingerprint, alpn });
    });
    socket.once("error", reject);
  });
}

/** One raw HTTP/2 gRPC request to a node: SNI and :authority are separate knobs, as they are on the wire. */
export async function grpcRequest(
  node: AlbNode,
  opts: { servername: string; authority: string; ca: string; path?: string },
): Promise<{ status: number; grpcStatus?: string }> {
  const session = http2.connect(`https://${opts.servername}`, {
    createConnection: () =>
      tls.connect({ host: node.address, port: node.port, servername: opts.servername, ca: opts.ca, ALPNProtocols: ["h2"] }),
  });
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": opts.path ?? "/milvus.proto.milvus.MilvusService/GetVersion",
        ":authority": opts.authority,
        "content-type": "application/grpc",
        te: "trailers",
      });
      let status = 0;
      let grpcStatus: string | undefined;
      req.on("response", (h) => {
        status = Number(h[":status"]);
        grpcStatus = h["grpc-status"] as string | undefined;
      });
      req.on("trailers", (t) => {
        grpcStatus = (t["grpc-status"] as string | undefined) ?? grpcStatus;
      });
      req.on("data", () => undefined);
      req.on("end", () => resolve({ status, grpcStatus }));
      req.on("error", reject);
      // An empty GetVersionRequest: uncompressed flag + zero length.
      req.end(Buffer.alloc(5));
    });
  } finally {
    session.close();
  }
}

/**
 * The stand-ins one test file shares, started before its tests and stopped after them. The methods are bound, so
 * a file can destructure them before the stand-ins exist.
 */
export class AlbSandbox {
  moto!: Moto;
  kube!: KubeApiServer;
  milvus!: MilvusServer;
  acm!: ACMClient;
  core!: CoreV1Api;
  networking!: NetworkingV1Api;
  custom!: CustomObjectsApi;
  /** The certificate set for the file's host, imported into ACM as `certArn`. */
  certs!: CertificateSet;
  certArn!: string;
  /** The sandbox's key store: ACM never hands an imported private key back. */
  private readonly keys = new Map<string, string>();
  private readonly controllers: AlbController[] = [];

  constructor(readonly host: string) {}

  async start(): Promise<void> {
    [this.moto, this.kube, this.milvus] = await Promise.all([startMoto(), startKubeApiServer(), startMilvusServer()]);
    seedMilvusRelease(this.kube);
    this.acm = new ACMClient({ endpoint: this.moto.endpoint, region: this.moto.region, credentials: this.moto.credentials });
    this.certs = await certificateSet([this.host]);
    this.certArn = await this.importCertificate(this.certs);
    const kc = kubeConfig(this.kube, "test-token");
    this.core = kc.makeApiClient(CoreV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Controllers first (last started, first closed), then the stand-ins they talk to. */
  async close(): Promise<void> {
    for (const c of this.controllers.splice(0).reverse()) await c.close();
    await Promise.all([this.milvus?.close(), this.kube?.close()]);
    await this.moto?.stop();
  }

  importCertificate = async (set: CertificateSet, arn?: string): Promise<string> => {
    const out = await this.acm.send(
      new ImportCertificateCommand({
        CertificateArn: arn,
        Certificate: Buffer.from(set.leaf.certPem),
        CertificateChain: Buffer.from(set.chainPem),
        PrivateKey: Buffer.from(set.leaf.keyPem),
      }),
    );
    this.keys.set(set.leaf.certPem.trim(), set.leaf.keyPem);
    if (!out.CertificateArn) throw new Error("ImportCertificate returned no ARN");
    return out.CertificateArn;
  };

  /**
   * A controller on this cluster and ACM, closed with the sandbox. Its ip targets are the Milvus stand-in for any
   * Service port 19530 in the namespace unless `options.targetFor` says otherwise.
   */
  startController = async (options: Partial<AlbControllerOptions> = {}): Promise<AlbController> => {
    const controller = await startAlbController({
      kube: { url: this.kube.url, caPem: this.kube.caPem, token: "alb-controller-token" },
      acm: this.acm,
      privateKeyFor: (pem) => this.keys.get(pem.trim()),
      targetFor: (ns, _service, port) => (ns === NS && port === 19530 ? { host: this.milvus.host, port: this.milvus.port } : undefined),
      ...options,
    });
    this.controllers.push(controller);
    return controller;
  };

  /** An Ingress for the sandbox's host unless `opts.host` names another. */
  ingress = (name: string, annotations: Record<string, string>, opts: { host?: string; cls?: string; service?: string } = {}): V1Ingress =>
    albIngress(name, annotations, { ...opts, host: opts.host ?? this.host });

  /** Server-side apply, as apply-ingress does it. */
  apply = (ing: V1Ingress): Promise<V1Ingress> =>
    this.networking.patchNamespacedIngress(
      { name: ing.metadata?.name ?? "", namespace: NS, body: ing, fieldManager: "milvus-l7", force: true },
      serverSideApply,
    );

  hostnameOf = async (name: string): Promise<string | undefined> => {
    const ing = await this.networking.readNamespacedIngress({ name, namespace: NS });
    return ing.status?.loadBalancer?.ingress?.[0]?.hostname;
  };

  eventsFor = async (name: string): Promise<CoreV1Event[]> => {
    const list = await this.core.listNamespacedEvent({ namespace: NS });
    return list.items.filter((e) => e.involvedObject.kind === "Ingress" && e.involvedObject.name === name);
  };

  warning = (name: string, reason: string): Promise<CoreV1Event> =>
    eventually(`${reason} on ${name}`, async () => (await this.eventsFor(name)).find((e) => e.type === "Warning" && e.reason === reason));

  /** Whether the Ingress is gone (its finalizers released); false while it exists or cannot be read. */
  gone = async (name: string): Promise<boolean> => {
    try {
      await this.networking.readNamespacedIngress({ name, namespace: NS });
      return false;
    } catch (e) {
      return e instanceof ApiException && e.code === 404;
    }
  };
}

/** An AlbSandbox for the calling test file, with `host` the name its ACM certificate covers. */
export function useAlbSandbox(host: string): AlbSandbox {
  const sandbox = new AlbSandbox(host);
  beforeAll(() => sandbox.start());
  // vitest runs afterAll hooks in reverse order, so this one runs after any the file registers later.
  afterAll(() => sandbox.close());
  return sandbox;
}
