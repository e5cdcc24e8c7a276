// AWS Load Balancer Controller + ALB stand-in. The "ALB" it provisions is a set of nodes, each a local TLS HTTP/2
// listener on 127.0.0.1 with its own port, that serve the certificate ACM currently holds for the listener's ARN and
// route gRPC by `:authority` to the target (the Milvus stand-in) over h2c. README.md in this folder says what it
// models, from which upstream source, and what it does not.
export type { AlbController, AlbControllerOptions, AlbFault, AlbListenerInfo } from "./api";
export { startAlbController } from "./reconciler";
