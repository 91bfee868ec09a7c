/**
 * A checkout of an earlier commit with its own node_modules, cached under ~/.cache/iotload, so a
 * "before" figure is measured in the same run as the "after" (the machine is shared: a figure
 * recorded on another day says as much about that day's load as about the code). The probe file
 * is copied in, since the earlier commit may predate it.
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  )

/** The checkout's directory, or the reason there is none (a shallow clone, say). */
export async function beforeTree(
  root: string,
  commit: string,
  probes: string[],
): Promise<{ dir: string } | { error: string }> {
  const dir = join(homedir(), '.cache/iotload/bench-before', commit)
  try {
    if (!(await exists(join(dir, 'node_modules/.package-lock.json')))) {
      await mkdir(join(dir, '..'), { recursive: true })
      if (!(await exists(join(dir, '.git')))) {
        await exec('git', ['clone', '-q', '--no-checkout', root, dir])
        await exec('git', ['-C', dir, 'checkout', '-q', commit])
      }
      await exec('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, timeout: 600_000 })
    }
    for (const p of probes) await copyFile(join(root, p), join(dir, p))
    return { dir }
  } catch (err) {
    return { error: `no checkout of ${commit} (${(err as Error).message.split('\n')[0]})` }
  }
}
