import { defineConfig, mergeConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import base from './vitest.config.ts'

/**
 * The same projects under Bun: `bun --bun vitest run -c vitest.bun.config.ts --project unit`.
 * zod is inlined: loaded as an external under Bun, its `z` namespace export arrives undefined.
 */
const projects = (base.test?.projects ?? []) as TestProjectInlineConfiguration[]
export default defineConfig({
  test: {
    ...base.test,
    projects: projects.map((p) => mergeConfig(p, { test: { server: { deps: { inline: ['zod'] } } } })),
  },
})
