// The Milvus release the workflow starts from: its Service and the proxy pods behind it.
import { readFileSync } from "node:fs";
import type { KubeApiServer, KubeObject } from "./types";

const FIXTURE = new URL("../fixtures/milvus-demo-service-loadbalancer.json", import.meta.url);

/** The Milvus Service as the Helm chart leaves it (type LoadBalancer behind an NLB); a fresh copy per call. */
export function loadMilvusDemoService(): KubeObject {
  return JSON.parse(readFileSync(FIXTURE, "utf8")) as KubeObject;
}

/**
 * The proxy pod of the release (milvus-helm charts/milvus templates/proxy-deployment.yaml: one replica by default,
 * the labels the Service selects, ports milvus 19530 and metrics 9091), Running and Ready. Without readiness gates:
 * the namespace has no `elbv2.k8s.aws/pod-readiness-gate-inject` label, so the controller's webhook injected none.
 */
export function milvusProxyPod(service: KubeObject, index = 0): KubeObject {
  const selector = ((service.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {}) as Record<string, string>;
  const release = selector["app.kubernetes.io/instance"] ?? service.metadata.name;
  const time = service.metadata.creationTimestamp ?? "2026-11-20T09:14:02Z";
  const suffix = ["x2k4p", "q7m9d", "h3v8n"][index % 3] ?? "x2k4p";
  const conditions = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({
    type,
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: time,
  }));
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${release}-proxy-7c9d8f6b5d-${suffix}`,
      namespace: service.metadata.namespace ?? "milvus",
      labels: { ...selector, "pod-template-hash": "7c9d8f6b5d" },
      creationTimestamp: time,
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: `${release}-proxy-7c9d8f6b5d`, uid: "5b0e9f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b", controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      containers: [
        {
          name: "proxy",
          image: "milvusdb/milvus:v2.5.4",
          args: ["milvus", "run", "proxy"],
          ports: [
            { name: "milvus", containerPort: 19530, protocol: "TCP" },
            { name: "metrics", containerPort: 9091, protocol: "TCP" },
          ],
        },
      ],
      restartPolicy: "Always",
      serviceAccountName: "default",
      nodeName: "ip-10-0-1-23.us-east-2.compute.internal",
      schedulerName: "default-scheduler",
    },
    status: {
      phase: "Running",
      conditions,
      podIP: `10.0.1.${40 + index}`,
      podIPs: [{ ip: `10.0.1.${40 + index}` }],
      hostIP: "10.0.1.23",
      startTime: time,
      qosClass: "BestEffort",
    },
  };
}

/** Puts the Milvus Service and its proxy pod into the stand-in, as after `helm install milvus-demo milvus/milvus -n milvus`. */
export function seedMilvusRelease(server: KubeApiServer): KubeObject {
  const service = server.put(loadMilvusDemoService());
  server.put(milvusProxyPod(service));
  return server.get("Service", service.metadata.namespace, service.metadata.name) ?? service;
}
