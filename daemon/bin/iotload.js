#!/usr/bin/env node
// Runs the TypeScript sources directly, so a checkout needs no build step: Bun natively, Node
// through tsx's loader.
if (!process.versions.bun) {
  const { register } = await import('tsx/esm/api')
  register()
}
const { main } = await import('../src/cli/main.ts')
const code = await main(process.argv.slice(2))
// Exit explicitly: a plugin's lingering timer must not keep a finished CLI run alive.
process.stdout.write('', () => process.exit(code))
