/** The shared throw-away PKI (see @iotload/sdk/testing). */
export { makeTestCerts, type TestCerts } from '@iotload/sdk/testing'
