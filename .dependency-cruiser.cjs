/**
 * iotload's dependency rules, checked by `npm run deps` (part of `npm run check`).
 * docs/architecture.md explains them; scripts/dependency-rules.test.ts proves each one fires.
 *
 * Test code (tests, `testing/` helpers, fixtures) is exempt from the package and layer rules: a
 * daemon test may run a plugin (the memory broker) as any user would, and a store or plugin test
 * may drive the engine or the CLI end to end. The ban on cycles holds for test code too.
 */

/** Files that are test code: never shipped (see the packages' `files`), never imported by shipped code. */
const TEST_CODE = '(\\.test\\.ts$|/testing/|/fixtures/|-fixtures\\.ts$|/test-[^/]+\\.ts$|-test-helpers\\.ts$)'

/**
 * The daemon's layers, lowest first. A directory of daemon/src may import its own files and those
 * of lower layers only: never a layer above, never a peer of its own layer.
 */
const DAEMON_LAYERS = [
  ['log'], // logger, secret scrubbing
  ['store', 'plugins'], // result ports + SQLite; plugin and optional-package loading
  ['scenario'], // parse, validate, resolve and compile a scenario
  ['engine'], // scheduler, roles, recorder, one run
  ['telemetry'], // the daemon's OpenTelemetry wiring
  ['service'], // run manager, plugin installer
  ['capacity'], // find-max: searches made of runs
  ['api', 'cluster'], // REST; Redis-coordinated runs
  ['cli'], // the iotload command
]

/** The npm packages the sdk may import besides node's own modules: no broker client library. */
const SDK_PACKAGES = ['zod', 'vitest', '@vitest']

function layerRules() {
  return DAEMON_LAYERS.flatMap((layer, i) =>
    layer.map((dir) => {
      const above = DAEMON_LAYERS.slice(i + 1).flat()
      const peers = layer.filter((d) => d !== dir)
      const forbidden = [...above, ...peers]
      return {
        name: `daemon-layer-${dir}`,
        comment: `daemon/src/${dir} is below ${forbidden.join(', ')} (docs/architecture.md, "Layers")`,
        severity: 'error',
        from: { path: `^daemon/src/${dir}/`, pathNot: TEST_CODE },
        to: { path: `^daemon/src/(${forbidden.join('|')})/` },
      }
    }),
  ).filter((rule) => !rule.to.path.includes('()'))
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules import each other (directly or through others); type-only imports count',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'daemon-no-plugin-import',
      comment:
        'the daemon reaches plugin packages only through daemon/src/plugins/optional-packages.ts ' +
        '(lazily) and the plugin loader; `import type` is fine (erased at run time)',
      severity: 'error',
      from: { path: '^daemon/src/', pathNot: [TEST_CODE, '^daemon/src/plugins/optional-packages\\.ts$'] },
      to: { path: '^plugins/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'daemon-plugin-import-is-lazy',
      comment: 'optional-packages.ts imports plugin packages with import() only, when first needed',
      severity: 'error',
      from: { path: '^daemon/src/plugins/optional-packages\\.ts$' },
      to: { path: '^plugins/', dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'sdk-is-the-bottom',
      comment: 'the sdk holds contracts: it imports neither the daemon, otel nor a plugin',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(daemon|otel|plugins)/' },
    },
    {
      name: 'sdk-no-client-library',
      comment: `the sdk imports no broker client library: only ${SDK_PACKAGES.join(', ')} and node's modules`,
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: 'node_modules/', pathNot: `node_modules/(${SDK_PACKAGES.join('|')})/` },
    },
    {
      name: 'plugins-import-only-the-sdk',
      comment:
        'a plugin imports the sdk and its own client libraries, never the daemon, otel or another plugin',
      severity: 'error',
      from: { path: '^plugins/([^/]+)/', pathNot: TEST_CODE },
      to: { path: '^(daemon|otel|plugins)/', pathNot: '^plugins/$1/' },
    },
    {
      name: 'plugins-otel-api-only',
      comment: 'plugins may use @opentelemetry/api, never an OpenTelemetry SDK package',
      severity: 'error',
      from: { path: '^plugins/' },
      to: { path: 'node_modules/@opentelemetry/', pathNot: 'node_modules/@opentelemetry/api/' },
    },
    {
      name: 'otel-below-the-daemon',
      comment: '@iotload/otel implements the sdk run hooks; it imports neither the daemon nor a plugin',
      severity: 'error',
      from: { path: '^otel/' },
      to: { path: '^(daemon|plugins)/' },
    },
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too (for layering and cycles); the plugin rule exempts them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.js', '.mjs'],
    },
    skipAnalysisNotInRules: true,
  },
}
