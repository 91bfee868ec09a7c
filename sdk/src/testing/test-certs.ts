import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A throw-away PKI for TLS tests, made with the openssl CLI (valid two days): a CA, a server
 * certificate it signed for 127.0.0.1/localhost, an unrelated CA for the unknown-CA case, and
 * optionally client certificates (signed by the CA, or by the unrelated CA for rogue clients).
 */
export interface TestCerts {
  dir: string
  /** CA that signed the server certificate. */
  caFile: string
  caPem: string
  /** A CA that signed nothing the server presents. */
  otherCaFile: string
  serverCertFile: string
  serverKeyFile: string
  cert: Buffer
  key: Buffer
  /** Client certificate and key files by name, from `clients`. */
  clients: Record<string, { certFile: string; keyFile: string }>
  /** Removes the temporary directory. */
  cleanup(): void
}

/** Options for `makeTestCerts`. */
export interface TestCertsOptions {
  /** Prefix of the temp dir. @default 'iotload-tls-' */
  prefix?: string
  /** Client certificates to issue: `{ client: 'ca', rogue: 'other-ca' }` names the signing CA. */
  clients?: Record<string, 'ca' | 'other-ca'>
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  ])
}

function makeLeaf(dir: string, ca: string, name: string, ext: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ])
  writeFileSync(join(dir, `${name}.ext`), ext)
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ])
}

/** Generates the certificates into a fresh temporary directory. */
export function makeTestCerts(options: TestCertsOptions = {}): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'iotload-tls-'))
  makeCa(dir, 'ca')
  makeCa(dir, 'other-ca')
  makeLeaf(dir, 'ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  const clients: TestCerts['clients'] = {}
  for (const [name, ca] of Object.entries(options.clients ?? {})) {
    makeLeaf(dir, ca, name, 'basicConstraints=CA:FALSE\n')
    clients[name] = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) }
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    cert: readFileSync(join(dir, 'server.pem')),
    key: readFileSync(join(dir, 'server.key')),
    clients,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
