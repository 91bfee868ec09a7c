import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from './load-scenario.ts'

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url))
// suite-*.yaml are suites (iotload suite), checked by cli/suite.test.ts
const examples = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.startsWith('suite-'))

// Every shipped example must stay a valid scenario: the README and the issues point users at them.
describe('examples/', () => {
  it('has examples to check', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10)
  })
  it.each(examples)('%s resolves against the schema and its plugin', async (file) => {
    const resolved = await loadScenarioFile(`${dir}${file}`, {
      env: { AMQP_PASSWORD: 'guest' },
    })
    expect(resolved.scenario.producer.devices).toBeGreaterThan(0)
  })
})
