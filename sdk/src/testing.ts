/**
 * The test kit every iotload package uses (`@iotload/sdk/testing`): contexts, inboxes and polling
 * for plugin tests, a fault-injecting TCP proxy, private servers on free ports, throw-away
 * certificates, and the checks that skip loudly (or fail under CI) when a server is missing.
 * It spawns server binaries but imports no broker client library.
 */
export { type CollectingLogger, createCollectingLogger, leakedSecrets } from './testing/collecting-logger.ts'
export { freePort, isPortFree } from './testing/free-port.ts'
export { type HandleCounts, handleCounts, handlesAbove, settleHandles } from './testing/handles.ts'
export { Inbox } from './testing/inbox.ts'
export { type MosquittoOptions, type PrivateMosquitto, startMosquitto } from './testing/mosquitto.ts'
export { natsServerBin, startNatsServer } from './testing/nats-server.ts'
export {
  hasBinary,
  type PrivateServer,
  type PrivateServerOptions,
  requireBinary,
  startPrivateServer,
} from './testing/private-server.ts'
export { isPortOpen, requireService } from './testing/require-service.ts'
export { startTcpProxy, type TcpProxy, type TcpProxyOptions } from './testing/tcp-proxy.ts'
export { createTestContext, type TestContext, type TestContextOptions } from './testing/test-context.ts'
export { makeTestCerts, type TestCerts, type TestCertsOptions } from './testing/test-certs.ts'
export { sleep, waitFor, withTimeout } from './testing/wait.ts'
