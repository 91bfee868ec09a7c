export { freePort } from './testing/free-port.ts'
export { isPortOpen, requireService } from './testing/require-service.ts'
export { makeTestCerts, type TestCerts, type TestCertsOptions } from './testing/test-certs.ts'
